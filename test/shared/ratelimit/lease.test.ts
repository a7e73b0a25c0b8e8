import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { emptyLedger, giveBack, grantLease, type LeaseGrant, type LeaseLedger } from '../../../shared/ratelimit/lease';
import { LeaseHolder } from '../../../shared/ratelimit/lease-holder';
import { limiterStep, type LimiterState } from '../../../shared/ratelimit/limiter';
import type { RateLimitPolicy } from '../../../shared/ratelimit/policy';

// Leases (shared/ratelimit/lease.ts) against the exact algorithm: whatever the isolates, the
// order and delay of messages, give-backs (repeated, late) and object restarts, the requests
// actually admitted are a schedule the exact sliding window admits in full.

type Command =
  | { kind: 'tick'; ms: number }
  | { kind: 'arrive'; isolate: number; cost: number }
  | { kind: 'process'; pick: number }
  | { kind: 'deliver'; pick: number }
  | { kind: 'surplus'; isolate: number }
  | { kind: 'giveBack'; pick: number; again: boolean }
  | { kind: 'restart' };

// Weighted towards traffic (arrivals, answers) with short ticks, so windows fill and roll over.
const command = (isolates: number): fc.Arbitrary<Command> =>
  fc.oneof(
    { weight: 3, arbitrary: fc.record({ kind: fc.constant('tick' as const), ms: fc.integer({ min: 0, max: 60 }) }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('tick' as const), ms: fc.integer({ min: 0, max: 3_000 }) }) },
    { weight: 8, arbitrary: fc.record({ kind: fc.constant('arrive' as const), isolate: fc.nat(isolates - 1), cost: fc.oneof(fc.constant(1), fc.integer({ min: 1, max: 3 })) }) },
    { weight: 3, arbitrary: fc.record({ kind: fc.constant('process' as const), pick: fc.nat() }) },
    { weight: 3, arbitrary: fc.record({ kind: fc.constant('deliver' as const), pick: fc.nat() }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('surplus' as const), isolate: fc.nat(isolates - 1) }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('giveBack' as const), pick: fc.nat(), again: fc.boolean() }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('restart' as const) }) },
  );

interface Asked {
  isolate: number;
  sentAt: number;
  want: number;
  giveBacks: { leaseId: string; units: number }[];
}

/** Replays admissions (time, cost) through the exact algorithm from nothing: how many it would refuse. */
function refusedByExact(policy: RateLimitPolicy, admissions: { at: number; cost: number }[]): number {
  let state: LimiterState | undefined;
  let refused = 0;
  for (const { at, cost } of [...admissions].sort((a, b) => a.at - b.at)) {
    const step = limiterStep(policy, state, at, cost);
    if (!step.allowed) refused++;
    state = step.state;
  }
  return refused;
}

/** Runs one interleaving; returns what was admitted and how many slices were asked for. */
function run(policy: RateLimitPolicy, isolates: number, start: number, commands: Command[]) {
  let now = start;
  // What the object persists (its limiter state) survives a restart; its lease table does not.
  let ledger: LeaseLedger = emptyLedger();
  let incarnation = 0;
  let next = 0;
  const holders = Array.from({ length: isolates }, () => new LeaseHolder(policy, { horizonMs: 200, clockMarginMs: 0 }));
  const pending: (Asked | undefined)[] = Array(isolates).fill(undefined);
  const answered: { isolate: number; sentAt: number; grant: LeaseGrant }[] = [];
  const giveBacks: { leaseId: string; units: number }[] = [];
  const admissions: { at: number; cost: number }[] = [];
  let asked = 0;
  for (const c of commands) {
    switch (c.kind) {
      case 'tick':
        now += c.ms;
        break;
      case 'arrive': {
        const holder = holders[c.isolate]!;
        holder.arrive(now, c.cost);
        const take = holder.take(now, c.cost);
        if (take.kind === 'admit') admissions.push({ at: now, cost: c.cost });
        else if (take.kind === 'ask' && !pending[c.isolate]) {
          holder.held(now);
          pending[c.isolate] = { isolate: c.isolate, sentAt: now, want: holder.want(c.cost), giveBacks: holder.takeEnded() };
          asked++;
        }
        break;
      }
      case 'process': {
        const waiting = pending.filter((p): p is Asked => p !== undefined);
        if (!waiting.length) break;
        const request = waiting[c.pick % waiting.length]!;
        pending[request.isolate] = undefined;
        for (const back of request.giveBacks) giveBack(policy, ledger, now, back.leaseId, back.units);
        const grant = grantLease(policy, ledger, now, request.want, () => `${incarnation}.${next++}`);
        answered.push({ isolate: request.isolate, sentAt: request.sentAt, grant });
        break;
      }
      case 'deliver': {
        if (!answered.length) break;
        const [answer] = answered.splice(c.pick % answered.length, 1);
        holders[answer!.isolate]!.granted(answer!.grant, answer!.sentAt, now);
        break;
      }
      case 'surplus': {
        const back = holders[c.isolate]!.surplus(now);
        if (back) giveBacks.push(back);
        break;
      }
      case 'giveBack': {
        if (!giveBacks.length) break;
        const i = c.pick % giveBacks.length;
        const back = giveBacks[i]!;
        if (!c.again) giveBacks.splice(i, 1); // `again`: delivered now and once more later
        giveBack(policy, ledger, now, back.leaseId, back.units);
        break;
      }
      case 'restart':
        ledger = emptyLedger(ledger.limiter);
        incarnation++;
        next = 0;
        break;
    }
  }
  return { admissions, asked };
}

describe('leases never admit more than the exact sliding window would', () => {
  it('any isolates, message order and delay, repeated give-backs and object restarts: the admitted requests replay through the exact algorithm with no refusal', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 20 }),
        fc.integer({ min: 100, max: 1_000 }),
        fc.integer({ min: 1, max: 4 }),
        fc.integer({ min: 0, max: 1_000_000 }),
        fc.integer({ min: 1, max: 4 }).chain((n) => fc.tuple(fc.constant(n), fc.array(command(n), { maxLength: 400 }))),
        (limit, windowMs, _unused, start, [isolates, commands]) => {
          const policy: RateLimitPolicy = { algorithm: 'sliding-window', limit, windowMs };
          const { admissions } = run(policy, isolates, start, commands);
          expect(refusedByExact(policy, admissions)).toBe(0);
        },
      ),
      { numRuns: 600 },
    );
  });

  it('a slice is never spent after the fixed window it was counted in (else a late spend plus a fresh grant would pass the limit)', () => {
    const policy: RateLimitPolicy = { algorithm: 'sliding-window', limit: 10, windowMs: 1_000 };
    const ledger = emptyLedger();
    const [a, b] = [new LeaseHolder(policy, { clockMarginMs: 0 }), new LeaseHolder(policy, { clockMarginMs: 0 })];
    const admissions: { at: number; cost: number }[] = [];
    // A is granted 5 at the very end of window 0 and spends none of it there.
    a.granted(grantLease(policy, ledger, 999, 10, () => 'a'), 999, 999);
    // Late in window 1, B drains what the object has left; A tries to spend its old slice.
    const at = 1_900;
    for (let i = 0; i < 20; i++) {
      let take = b.take(at, 1);
      if (take.kind === 'ask') {
        b.granted(grantLease(policy, ledger, at, 10, () => `b${i}`), at, at);
        take = b.take(at, 1);
      }
      if (take.kind === 'admit') admissions.push({ at, cost: 1 });
      if (a.take(at, 1).kind === 'admit') admissions.push({ at, cost: 1 });
    }
    expect(admissions.length).toBeGreaterThan(0);
    expect(refusedByExact(policy, admissions)).toBe(0);
  });

  it('an object that forgot its counts on a restart would over-admit (why the counts are persisted)', () => {
    const policy: RateLimitPolicy = { algorithm: 'sliding-window', limit: 10, windowMs: 10_000 };
    const drain = (ledger: LeaseLedger) => {
      let units = 0;
      for (let g = grantLease(policy, ledger, 1_000, 10, () => 'a'); g.units > 0; g = grantLease(policy, ledger, 1_000, 10, () => 'a')) units += g.units;
      return units;
    };
    const kept = emptyLedger();
    expect(drain(kept)).toBe(10);
    expect(drain(emptyLedger(kept.limiter))).toBe(0); // restarted with its persisted counts
    const forgot = drain(emptyLedger()); // restarted with none: the whole limit again
    expect(refusedByExact(policy, Array.from({ length: 10 + forgot }, () => ({ at: 1_001, cost: 1 })))).toBe(10);
  });

  it('one isolate, answers at once, inside one fixed window: exactly the limit is admitted, in a handful of slices', () => {
    const policy: RateLimitPolicy = { algorithm: 'sliding-window', limit: 50, windowMs: 60_000 };
    const ledger = emptyLedger();
    const holder = new LeaseHolder(policy);
    let admitted = 0;
    let slices = 0;
    for (let i = 0; i < 200; i++) {
      const now = 1_000 + i;
      holder.arrive(now, 1);
      let take = holder.take(now, 1);
      if (take.kind === 'ask') {
        slices++;
        holder.granted(grantLease(policy, ledger, now, holder.want(1), () => `l${slices}`), now, now);
        take = holder.take(now, 1);
      }
      if (take.kind === 'admit') admitted++;
    }
    expect(admitted).toBe(50);
    expect(slices).toBeLessThan(15);
  });

  it('units given back are subtracted once: a repeated, stale or unknown give-back changes nothing', () => {
    const policy: RateLimitPolicy = { algorithm: 'sliding-window', limit: 10, windowMs: 10_000 };
    const ledger = emptyLedger();
    const grant = grantLease(policy, ledger, 1_000, 4, () => 'x');
    expect(grant.units).toBe(4);
    giveBack(policy, ledger, 1_001, 'x', 2); // running totals: 2, then 3
    giveBack(policy, ledger, 1_002, 'x', 3);
    giveBack(policy, ledger, 1_002, 'x', 3); // repeated
    giveBack(policy, ledger, 1_002, 'x', 2); // late
    giveBack(policy, ledger, 1_003, 'nope', 5);
    expect(grantLease(policy, ledger, 1_004, 0, () => 'y').remaining).toBe(9);
  });
});
