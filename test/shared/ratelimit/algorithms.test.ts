import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { limiterStep, type LimiterState } from '../../../shared/ratelimit/limiter';
import { assertPolicy, type RateLimitAlgorithm, type RateLimitPolicy, type RateLimitStep } from '../../../shared/ratelimit/policy';
import { slidingWindow, type SlidingWindowState } from '../../../shared/ratelimit/sliding-window';
import { tokenBucket, type TokenBucketState } from '../../../shared/ratelimit/token-bucket';

const bucket = (limit: number, windowMs: number): RateLimitPolicy => ({ algorithm: 'token-bucket', limit, windowMs });
const sliding = (limit: number, windowMs: number): RateLimitPolicy => ({ algorithm: 'sliding-window', limit, windowMs });

/** Requests at one instant, each a fresh step on the last state. */
function burst<S>(step: (state: S | undefined, now: number) => RateLimitStep<S>, state: S | undefined, now: number, n: number) {
  const steps: RateLimitStep<S>[] = [];
  for (let i = 0; i < n; i++) {
    const next = step(state, now);
    steps.push(next);
    state = next.state;
  }
  return { state, steps };
}

describe('token bucket, by example', () => {
  const policy = bucket(10, 1_000); // one token every 100 ms
  const take = (state: TokenBucketState | undefined, now: number) => tokenBucket(policy, state, now);

  it('admits a burst of `limit`, then refuses until the next token, which comes exactly when retryAfter says', () => {
    const { state, steps } = burst(take, undefined, 5_000, 11);
    expect(steps.map((s) => s.allowed)).toEqual([...Array(10).fill(true), false]);
    expect(steps.map((s) => s.remaining)).toEqual([9, 8, 7, 6, 5, 4, 3, 2, 1, 0, 0]);
    expect(steps[0]).toMatchObject({ limit: 10, resetMs: 100, retryAfterMs: 0 });
    expect(steps[9]).toMatchObject({ remaining: 0, retryAfterMs: 100, resetMs: 100 });
    expect(steps[10]).toMatchObject({ allowed: false, retryAfterMs: 100 });
    expect(take(state, 5_099).allowed).toBe(false);
    expect(take(state, 5_100)).toMatchObject({ allowed: true, remaining: 0, retryAfterMs: 100 });
    // Half a window refills half the bucket; a whole window (or more) fills it, never beyond.
    expect(take(state, 5_500)).toMatchObject({ allowed: true, remaining: 4 });
    expect(take(state, 60_000)).toMatchObject({ allowed: true, remaining: 9 });
  });

  it('counts fractions exactly: 3 per 10 s is a token every 3333⅓ ms, not 3333 or 3334', () => {
    const policy3 = bucket(3, 10_000);
    const { state } = burst((s: TokenBucketState | undefined, now: number) => tokenBucket(policy3, s, now), undefined, 0, 3);
    const refused = tokenBucket(policy3, state, 0);
    expect(refused).toMatchObject({ allowed: false, retryAfterMs: 3_334 });
    expect(tokenBucket(policy3, state, 3_333).allowed).toBe(false);
    const first = tokenBucket(policy3, state, 3_334);
    expect(first.allowed).toBe(true);
    // 2/3 ms of refill carried over: the next token is 6666⅔ ms after the start, so at 6_667.
    expect(first.retryAfterMs).toBe(6_667 - 3_334);
  });

  it('a clock that went backwards refills nothing and takes nothing back', () => {
    const { state } = burst(take, undefined, 10_000, 10);
    const earlier = take(state, 9_000);
    expect(earlier).toMatchObject({ allowed: false, retryAfterMs: 1_100 }); // the token at 10_100, from 9_000
    expect(earlier.state).toEqual(state);
  });

  it('a cost above the limit is never admitted (retryAfter Infinity); a cost of 0 peeks', () => {
    expect(tokenBucket(policy, undefined, 0, 11)).toMatchObject({ allowed: false, remaining: 10, retryAfterMs: Number.POSITIVE_INFINITY });
    expect(tokenBucket(policy, undefined, 0, 0)).toMatchObject({ allowed: true, remaining: 10, resetMs: 0, retryAfterMs: 0 });
  });
});

describe('sliding window, by example (as @upstash/ratelimit computes it)', () => {
  const policy = sliding(10, 1_000);
  const take = (state: SlidingWindowState | undefined, now: number) => slidingWindow(policy, state, now);

  it('admits `limit` in a window; the previous window counts by how much it still overlaps', () => {
    const { state, steps } = burst(take, undefined, 10_500, 11);
    expect(steps.map((s) => s.allowed)).toEqual([...Array(10).fill(true), false]);
    expect(steps[0]).toMatchObject({ remaining: 9, resetMs: 500, retryAfterMs: 0 });
    expect(steps[10]).toMatchObject({ allowed: false, remaining: 0, resetMs: 500 });
    // Next window, 100 ms in: the previous 10 weigh floor(0.9 × 10) = 9, so one more fits.
    const next = take(state, 11_100);
    expect(next).toMatchObject({ allowed: true, remaining: 0, resetMs: 900 });
    expect(next.state).toEqual({ window: 11, current: 1, previous: 10 });
    // Refused at 10_500: the earliest admission is 1 ms into the next window (floor(0.999 × 10) = 9).
    expect(steps[10]?.retryAfterMs).toBe(501);
    expect(take(state, 11_000).allowed).toBe(false);
    expect(take(state, 11_001).allowed).toBe(true);
  });

  it('a window with nothing before it, or two windows later, starts empty', () => {
    const { state } = burst(take, undefined, 10_500, 10);
    expect(take(state, 12_000)).toMatchObject({ allowed: true, remaining: 9 });
    expect(take(state, 12_000).state).toEqual({ window: 12, current: 1, previous: 0 });
  });

  it('a clock that went backwards counts at the start of the state’s window', () => {
    const { state } = burst(take, undefined, 10_500, 3);
    const earlier = take(state, 9_000);
    expect(earlier.state).toEqual({ window: 10, current: 4, previous: 0 });
    expect(earlier.resetMs).toBe(2_000);
  });
});

describe('policies', () => {
  it('refuses what the algorithms cannot run', () => {
    expect(() => assertPolicy(bucket(0, 1_000))).toThrow(/limit/);
    expect(() => assertPolicy(bucket(1.5, 1_000))).toThrow(/limit/);
    expect(() => assertPolicy(sliding(10, 0))).toThrow(/windowMs/);
    expect(() => assertPolicy({ algorithm: 'leaky' as RateLimitAlgorithm, limit: 1, windowMs: 1 })).toThrow(/algorithm/);
    expect(() => assertPolicy(bucket(1e9, 1e9))).toThrow(/too large/);
  });

  it('state made under one policy is never read under another: the key starts afresh', () => {
    let state: LimiterState | undefined;
    for (let i = 0; i < 5; i++) state = limiterStep(bucket(5, 1_000), state, 0).state;
    expect(limiterStep(bucket(5, 1_000), state, 0).allowed).toBe(false);
    expect(limiterStep(bucket(6, 1_000), state, 0)).toMatchObject({ allowed: true, remaining: 5 });
    expect(limiterStep(sliding(5, 1_000), state, 0)).toMatchObject({ allowed: true, remaining: 4 });
  });
});

// ---------------------------------------------------------------------------------------------
// Properties, over random policies and random request schedules.

const policyArb = (algorithm: RateLimitAlgorithm) =>
  fc.record({ algorithm: fc.constant(algorithm), limit: fc.integer({ min: 1, max: 12 }), windowMs: fc.integer({ min: 1, max: 3_000 }) });

/** Requests: gaps (some zero, some longer than a window) and costs; times start anywhere, e.g. today. */
const scheduleArb = fc.record({
  start: fc.oneof(fc.integer({ min: 0, max: 10_000 }), fc.integer({ min: 1_700_000_000_000, max: 1_800_000_000_000 })),
  requests: fc.array(fc.record({ gap: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 50 }), fc.integer({ min: 0, max: 7_000 })), cost: fc.integer({ min: 1, max: 3 }) }), {
    minLength: 1,
    maxLength: 80,
  }),
});

interface Logged {
  at: number;
  cost: number;
  step: RateLimitStep<LimiterState>;
  before: LimiterState | undefined;
}

function runSchedule(policy: RateLimitPolicy, schedule: { start: number; requests: { gap: number; cost: number }[] }): Logged[] {
  let state: LimiterState | undefined;
  let at = schedule.start;
  const log: Logged[] = [];
  for (const { gap, cost } of schedule.requests) {
    at += gap;
    const step = limiterStep(policy, state, at, cost);
    log.push({ at, cost, step, before: state });
    state = step.state;
  }
  return log;
}

const runs = { numRuns: 400 };

describe.each(['token-bucket', 'sliding-window'] as const)('%s properties', (algorithm) => {
  it('retryAfter is exactly when the next request of the same cost is admitted: refused 1 ms before, admitted then', () => {
    fc.assert(
      fc.property(policyArb(algorithm), scheduleArb, (policy, schedule) => {
        for (const { at, cost, step } of runSchedule(policy, schedule)) {
          const wait = step.retryAfterMs;
          if (!Number.isFinite(wait)) {
            expect(cost).toBeGreaterThan(policy.limit);
            continue;
          }
          expect(limiterStep(policy, step.state, at + wait, cost).allowed).toBe(true);
          if (wait > 0) expect(limiterStep(policy, step.state, at + wait - 1, cost).allowed).toBe(false);
        }
      }),
      runs,
    );
  });

  it('remaining is within [0, limit], and is exactly what a burst right after would get', () => {
    fc.assert(
      fc.property(policyArb(algorithm), scheduleArb, (policy, schedule) => {
        for (const { at, step } of runSchedule(policy, schedule)) {
          expect(step.remaining).toBeGreaterThanOrEqual(0);
          expect(step.remaining).toBeLessThanOrEqual(policy.limit);
          const { steps } = burst((s: LimiterState | undefined, now: number) => limiterStep(policy, s, now), step.state, at, step.remaining + 1);
          expect(steps.map((s) => s.allowed)).toEqual([...Array(step.remaining).fill(true), false]);
        }
      }),
      runs,
    );
  });
});

describe('token bucket properties', () => {
  it('never admits more than capacity plus refill in any interval: limit + floor(Δ × limit / windowMs)', () => {
    fc.assert(
      fc.property(policyArb('token-bucket'), scheduleArb, (policy, schedule) => {
        const admitted = runSchedule(policy, schedule).filter((l) => l.step.allowed);
        for (let i = 0; i < admitted.length; i++) {
          let total = 0;
          for (let j = i; j < admitted.length; j++) {
            total += admitted[j]!.cost;
            const span = admitted[j]!.at - admitted[i]!.at;
            expect(total).toBeLessThanOrEqual(policy.limit + Math.floor((span * policy.limit) / policy.windowMs));
          }
        }
      }),
      runs,
    );
  });

  it('refills at limit per window, in whole tokens, up to the capacity and no further', () => {
    fc.assert(
      fc.property(policyArb('token-bucket'), scheduleArb, fc.integer({ min: 0, max: 10_000 }), (policy, schedule, idle) => {
        const last = runSchedule(policy, schedule).at(-1)!;
        const later = limiterStep(policy, last.step.state, last.at + idle, 0); // a peek: costs nothing
        const refill = Math.floor((idle * policy.limit) / policy.windowMs);
        expect(later.remaining).toBeGreaterThanOrEqual(Math.min(policy.limit, last.step.remaining + refill));
        expect(later.remaining).toBeLessThanOrEqual(Math.min(policy.limit, last.step.remaining + refill + 1));
        if (idle >= policy.windowMs) expect(later.remaining).toBe(policy.limit);
      }),
      runs,
    );
  });

  it('resetMs is exactly when the next whole token arrives: none 1 ms before (0 when full)', () => {
    fc.assert(
      fc.property(policyArb('token-bucket'), scheduleArb, (policy, schedule) => {
        for (const { at, step } of runSchedule(policy, schedule)) {
          if (step.remaining >= policy.limit) {
            expect(step.resetMs).toBe(0);
            continue;
          }
          // More than one token when the bucket refills faster than one per millisecond.
          expect(limiterStep(policy, step.state, at + step.resetMs, 0).remaining).toBeGreaterThan(step.remaining);
          expect(limiterStep(policy, step.state, at + step.resetMs - 1, 0).remaining).toBe(step.remaining);
        }
      }),
      runs,
    );
  });
});

describe('sliding window properties', () => {
  const windowOf = (at: number, policy: RateLimitPolicy) => Math.floor(at / policy.windowMs);

  it('never admits more than the limit in a fixed window, and admits exactly what the weighted count allows', () => {
    fc.assert(
      fc.property(policyArb('sliding-window'), scheduleArb, (policy, schedule) => {
        const log = runSchedule(policy, schedule);
        const admittedIn = new Map<number, number>();
        for (const { at, cost, step } of log) {
          const w = windowOf(at, policy);
          const current = admittedIn.get(w) ?? 0;
          const previous = admittedIn.get(w - 1) ?? 0;
          // The rule, recomputed from the log alone (not from the state), as Upstash's Lua has it.
          const weighted = Math.floor((1 - (at % policy.windowMs) / policy.windowMs) * previous);
          expect(step.allowed).toBe(weighted + current + cost <= policy.limit);
          if (step.allowed) admittedIn.set(w, current + cost);
          expect(admittedIn.get(w) ?? 0).toBeLessThanOrEqual(policy.limit);
          expect(step.resetMs).toBe((w + 1) * policy.windowMs - at);
        }
      }),
      runs,
    );
  });
});
