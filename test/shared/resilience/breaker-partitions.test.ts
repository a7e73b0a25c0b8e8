import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MemoryBreakerAuthority } from '../../../shared/adapters/memory/memory-breaker-authority';
import type { BreakerAuthority } from '../../../shared/resilience/breaker-authority';
import { BreakerClient, type BreakerPermit } from '../../../shared/resilience/breaker-client';
import { breakerSnapshot, DEFAULT_BREAKER_OPTIONS, type CircuitBreakerOptions } from '../../../shared/resilience/circuit-breaker';

// The breaker across isolates when traffic is sparse, when the authority cannot be reached for a
// while, and when isolates' cached views are stale. Time is simulated: nothing sleeps.

const breaker: CircuitBreakerOptions = { ...DEFAULT_BREAKER_OPTIONS, minimumCalls: 3, failureRateThreshold: 50, openDurationMs: 1_000, halfOpenMaxCalls: 2 };
const failed = { failed: true, durationMs: 5 };
const fine = { failed: false, durationMs: 5 };

/** An authority that can be cut off: every call fails while `reachable` is false. */
function partitioned(now: () => number) {
  const authority = new MemoryBreakerAuthority(now);
  const link = { reachable: true };
  const guard =
    <A extends unknown[], R>(call: (...args: A) => Promise<R>) =>
    (...args: A): Promise<R> =>
      link.reachable ? call(...args) : Promise.reject(new Error('authority unreachable'));
  const remote: BreakerAuthority = {
    current: guard(() => authority.current()),
    report: guard((...args: Parameters<BreakerAuthority['report']>) => authority.report(...args)),
    acquireProbe: guard((...args: Parameters<BreakerAuthority['acquireProbe']>) => authority.acquireProbe(...args)),
    probeOutcome: guard((...args: Parameters<BreakerAuthority['probeOutcome']>) => authority.probeOutcome(...args)),
    cancelProbe: guard((...args: Parameters<BreakerAuthority['cancelProbe']>) => authority.cancelProbe(...args)),
  };
  return { authority, remote, link };
}

function world(options = breaker) {
  let now = 0;
  const clock = () => now;
  const { authority, remote, link } = partitioned(clock);
  const isolate = () => new BreakerClient({ breaker: options, authority: () => remote, reportIntervalMs: 1_000, now: clock, sleep: async () => undefined });
  return { authority, link, isolate, advance: (ms: number) => (now += ms), now: clock };
}

/** One call through `client`, if it is permitted; returns the permit. */
async function call(client: BreakerClient, outcome: typeof failed): Promise<BreakerPermit> {
  const permit = await client.acquire();
  if (permit.permitted) await client.record(permit, outcome);
  return permit;
}

describe('sparse traffic', () => {
  it('opens, stays quiet for a minute, then closes on probes 45 s apart', async () => {
    const { authority, isolate, advance } = world({ ...breaker, maxWaitInHalfOpenMs: 30_000 });
    const client = isolate();
    for (let i = 0; i < 3; i++) await call(client, failed);
    expect(authority.state.kind).toBe('open');
    advance(60_000);
    for (let probe = 0; probe < 2; probe++) {
      const permit = await client.acquire();
      expect(permit).toMatchObject({ permitted: true, probePeriod: 0 });
      advance(50);
      await client.record(permit, fine);
      advance(45_000);
    }
    expect(authority.state.kind).toBe('closed');
    expect((await call(client, fine)).permitted).toBe(true);
    expect(authority.state.kind).toBe('closed');
  });
});

describe('an authority outage', () => {
  it('does not replay failures buffered during the outage onto a healthy upstream', async () => {
    const { authority, link, isolate, advance } = world();
    const client = isolate();
    await client.acquire();
    // The upstream fails while the authority cannot be reached: the reports do not arrive.
    link.reachable = false;
    for (let i = 0; i < 6; i++) {
      advance(500);
      await call(client, failed);
    }
    // Five minutes later both are back, and the upstream is healthy.
    advance(5 * 60_000);
    link.reachable = true;
    for (let i = 0; i < 3; i++) {
      expect((await call(client, fine)).permitted).toBe(true);
      advance(500);
    }
    expect(authority.state.kind).toBe('closed');
    expect(breakerSnapshot(authority.state, 5 * 60_000 + 4_500, breaker)).toMatchObject({ state: 'closed', failureRate: 0 });
  });

  it('still counts failures delayed by a short outage, within the window', async () => {
    const { authority, link, isolate, advance } = world();
    const client = isolate();
    await client.acquire();
    link.reachable = false;
    await client.record({ permitted: true }, failed);
    await client.record({ permitted: true }, failed);
    advance(2_000);
    link.reachable = true;
    await client.record({ permitted: true }, failed);
    expect(authority.state.kind).toBe('open');
  });
});

describe('when the authority cannot be reached (one rule for every isolate)', () => {
  it('an isolate that saw the breaker open decides alone: refuses for its open period, then probes on its own and closes', async () => {
    const { link, isolate, advance } = world();
    const client = isolate();
    for (let i = 0; i < 3; i++) await call(client, failed);
    expect(client.cachedView.state).toBe('open');
    link.reachable = false;
    advance(500);
    expect((await client.acquire()).permitted).toBe(false);
    advance(500);
    // Not refused for as long as the authority is away: its own half-open, with its own probe limit.
    const probes = await Promise.all([client.acquire(), client.acquire(), client.acquire()]);
    expect(probes.map((p) => p.permitted)).toEqual([true, true, false]);
    expect(client.decidingAlone).toBe(true);
    for (const probe of probes.filter((p) => p.permitted)) await client.record(probe, fine);
    expect((await client.acquire()).permitted).toBe(true);
  });

  it('a new isolate decides alone too: starts closed, and opens on its own failures', async () => {
    const { link, isolate } = world();
    link.reachable = false;
    const fresh = isolate();
    for (let i = 0; i < 3; i++) expect((await call(fresh, failed)).permitted).toBe(true);
    // Not "let everything through": its own breaker is open now.
    expect((await fresh.acquire()).permitted).toBe(false);
    expect(fresh.retryAfterMs()).toBe(1_000);
  });

  it('the first answer from the authority ends deciding alone, and its state counts again', async () => {
    const { authority, link, isolate, advance } = world();
    const other = isolate();
    for (let i = 0; i < 3; i++) await call(other, failed); // the authority is open
    link.reachable = false;
    const fresh = isolate();
    expect((await fresh.acquire()).permitted).toBe(true); // closed: it never learnt otherwise
    link.reachable = true;
    await fresh.record({ permitted: true, local: true }, fine);
    expect(fresh.decidingAlone).toBe(false);
    expect(fresh.cachedView).toEqual({ state: 'open', openedAt: 0 });
    expect((await fresh.acquire()).permitted).toBe(false);
    advance(1_000);
    expect((await fresh.acquire()).probePeriod).toBe(0);
    expect(authority.state).toMatchObject({ kind: 'half-open', inFlight: 1 });
  });

  it('an authority that does not answer counts as unreachable after answerTimeoutMs, and a permit it grants late goes back', async () => {
    const authority = new MemoryBreakerAuthority();
    let grant!: () => void;
    const held = new Promise<void>((resolve) => (grant = resolve));
    const slow: BreakerAuthority = {
      current: () => authority.current(),
      report: (...args) => authority.report(...args),
      acquireProbe: async (options) => (await held, authority.acquireProbe({ ...options, openDurationMs: 0 })),
      probeOutcome: (...args) => authority.probeOutcome(...args),
      cancelProbe: (...args) => authority.cancelProbe(...args),
    };
    await authority.report(breaker, { calls: 3, failures: 3, slow: 0 }); // open
    const client = new BreakerClient({ breaker, authority: () => slow, reportIntervalMs: 1_000, answerTimeoutMs: 20 });
    // Its last view is closed (it never heard otherwise): it lets the call through, deciding alone.
    expect((await client.acquire()).permitted).toBe(true);
    expect(client.decidingAlone).toBe(true);
    grant();
    await held;
    // The probe permit the authority granted after the caller stopped waiting is handed back.
    await expect.poll(() => authority.calls.cancelProbe).toBe(1);
    expect(authority.state).toMatchObject({ kind: 'half-open', inFlight: 0 });
  });
});

// Many isolates, each with whatever view it last learnt, calling in any interleaving while time
// moves on. The authority is reachable throughout; views are stale because an isolate only
// learns when it asks or reports.
const step = fc.oneof(
  { arbitrary: fc.record({ kind: fc.constant('acquire' as const), isolate: fc.nat() }), weight: 4 },
  { arbitrary: fc.record({ kind: fc.constant('finish' as const), pick: fc.nat(), failed: fc.boolean() }), weight: 4 },
  { arbitrary: fc.record({ kind: fc.constant('wait' as const), ms: fc.integer({ min: 0, max: 1_500 }) }), weight: 2 },
);

describe('isolates with stale views (property)', () => {
  it('never lets more than halfOpenMaxCalls calls start in a half-open period across all isolates, and never loses a failure that ends while half-open', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 2, max: 6 }), fc.integer({ min: 1, max: 3 }), fc.array(step, { minLength: 30, maxLength: 200 }), async (count, halfOpenMaxCalls, steps) => {
        const options = { ...breaker, minimumCalls: 2, halfOpenMaxCalls };
        const { authority, isolate, advance, now } = world(options);
        const isolates = Array.from({ length: count }, isolate);
        const running: { client: BreakerClient; permit: BreakerPermit }[] = [];
        const startedIn = new Map<number, number>(); // half-open period → calls started in it
        const authorityNow = () => {
          const snapshot = breakerSnapshot(authority.state, now(), options);
          return { state: snapshot.state, period: snapshot.openedAt };
        };
        for (const op of steps) {
          if (op.kind === 'wait') {
            advance(op.ms);
          } else if (op.kind === 'acquire') {
            const client = isolates[op.isolate % count]!;
            const permit = await client.acquire();
            if (!permit.permitted) continue;
            running.push({ client, permit });
            const { state, period } = authorityNow();
            if (state === 'half-open' && period !== undefined) {
              startedIn.set(period, (startedIn.get(period) ?? 0) + 1);
              expect(startedIn.get(period)).toBeLessThanOrEqual(halfOpenMaxCalls);
            }
          } else if (running.length > 0) {
            const [{ client, permit }] = running.splice(op.pick % running.length, 1) as [(typeof running)[number]];
            const during = authorityNow();
            await client.record(permit, { failed: op.failed, durationMs: 5 });
            if (op.failed && during.state === 'half-open') expect(authorityNow().state).toBe('open');
          }
        }
      }),
      { numRuns: 300 },
    );
  });
});
