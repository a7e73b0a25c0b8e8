import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  breakerSnapshot,
  breakerStep,
  closedBreaker,
  DEFAULT_BREAKER_OPTIONS,
  type BreakerInput,
  type BreakerState,
  type CircuitBreakerOptions,
} from '../../../shared/resilience/circuit-breaker';

const options: CircuitBreakerOptions = {
  ...DEFAULT_BREAKER_OPTIONS,
  failureRateThreshold: 50,
  slowCallRateThreshold: 100,
  slowCallDurationMs: 1_000,
  minimumCalls: 4,
  slidingWindowMs: 10_000,
  windowBuckets: 10,
  openDurationMs: 5_000,
  halfOpenMaxCalls: 2,
};

/** Runs inputs at one instant; returns the final state and every step. */
function run(state: BreakerState, inputs: BreakerInput[], now: number, opts = options) {
  const steps = [];
  for (const input of inputs) {
    const step = breakerStep(state, input, now, opts);
    steps.push(step);
    state = step.state;
  }
  return { state, steps };
}

const ok = (durationMs = 10): BreakerInput => ({ type: 'outcome', failed: false, durationMs, probe: false });
const fail = (durationMs = 10): BreakerInput => ({ type: 'outcome', failed: true, durationMs, probe: false });
// Probes of the half-open period that follows an opening at t = 1000 (see `halfOpen()` below).
const probeOk: BreakerInput = { type: 'outcome', failed: false, durationMs: 10, probe: true, period: 1_000 };
const probeFail: BreakerInput = { type: 'outcome', failed: true, durationMs: 10, probe: true, period: 1_000 };
const acquire: BreakerInput = { type: 'acquire' };

describe('closed', () => {
  it('opens after minimumCalls calls at a 50% failure rate', () => {
    const { state, steps } = run(closedBreaker(), [ok(), fail(), ok(), fail()], 1_000);
    expect(state).toEqual({ kind: 'open', openedAt: 1_000, calls: 4, failureRate: 0.5 });
    expect(steps.at(-1)?.transition).toEqual({ from: 'closed', to: 'open' });
  });

  it('does not open below minimumCalls, even when every call failed', () => {
    expect(run(closedBreaker(), [fail(), fail(), fail()], 1_000).state.kind).toBe('closed');
  });

  it('stays closed under the threshold', () => {
    expect(run(closedBreaker(), [ok(), ok(), ok(), fail(), ok()], 1_000).state.kind).toBe('closed');
  });

  it('opens on slow calls alone when every call in the window is slow', () => {
    const slow = ok(1_000);
    expect(run(closedBreaker(), [slow, slow, slow, slow], 1_000).state.kind).toBe('open');
  });

  it('forgets outcomes that fell out of the time window', () => {
    const early = run(closedBreaker(), [fail(), fail(), fail()], 0).state;
    // 11 s later the three failures are gone: one more failure is 1 call, not 4.
    expect(run(early, [fail()], 11_000).state.kind).toBe('closed');
    // Within the window they still count.
    expect(run(early, [fail()], 5_000).state.kind).toBe('open');
  });
});

describe('outcomes with their time', () => {
  const failures = (n: number, at: number): BreakerInput => ({ type: 'outcomes', calls: n, failures: n, slow: 0, at, failedAt: at });

  it('ignores outcomes older than the window, however many', () => {
    // Failures buffered for five minutes while the authority could not be reached.
    expect(run(closedBreaker(), [failures(50, 0)], 300_000).state).toEqual(closedBreaker());
  });

  it('ignores outcomes from before the breaker last closed', () => {
    const closed: BreakerState = { kind: 'closed', window: [], since: 20_000 };
    expect(run(closed, [failures(10, 19_000)], 21_000).state).toEqual(closed);
    expect(run(closed, [failures(10, 20_500)], 21_000).state.kind).toBe('open');
  });

  it('files outcomes in the bucket of when they ended, so they leave the window on time', () => {
    // Three failures that ended at 1_000 (bucket 1_000–2_000), reported at 9_000: out of the window by 12_000.
    const late = run(closedBreaker(), [failures(3, 1_000)], 9_000).state;
    expect(run(late, [fail()], 9_500).state.kind).toBe('open');
    expect(run(late, [fail()], 12_000).state.kind).toBe('closed');
  });
});

describe('open', () => {
  const opened: BreakerState = { kind: 'open', openedAt: 1_000 };

  it('refuses every call until openDurationMs has passed', () => {
    const step = breakerStep(opened, acquire, 5_999, options);
    expect(step.permitted).toBe(false);
    expect(step.state).toBe(opened);
  });

  it('admits a probe once the open period is over (half-open, no timer)', () => {
    const step = breakerStep(opened, acquire, 6_000, options);
    expect(step).toMatchObject({ permitted: true, probe: true, transition: { from: 'open', to: 'half-open' } });
  });

  it('ignores late outcomes of calls admitted before it opened', () => {
    expect(breakerStep(opened, ok(), 2_000, options).state).toBe(opened);
  });
});

describe('half-open', () => {
  const halfOpen = (now = 6_000) => breakerStep({ kind: 'open', openedAt: 1_000 }, acquire, now, options).state;

  it('admits at most halfOpenMaxCalls probes in all', () => {
    const { steps } = run(halfOpen(), [acquire, acquire, acquire], 6_000);
    expect(steps.map((s) => s.permitted)).toEqual([true, false, false]);
  });

  it('counts probes that already succeeded against the limit, not only those in flight', () => {
    // halfOpen() admitted probe 1; it succeeds; probe 2 is admitted; a third would exceed the limit.
    const { steps } = run(halfOpen(), [probeOk, acquire, acquire], 6_000);
    expect(steps.map((s) => s.permitted)).toEqual([undefined, true, false]);
  });

  it('closes once halfOpenMaxCalls probes succeeded, with an empty window', () => {
    const { state, steps } = run(halfOpen(), [acquire, probeOk, probeOk], 6_100);
    expect(state).toEqual({ kind: 'closed', window: [], since: 6_100 });
    expect(steps.at(-1)?.transition).toEqual({ from: 'half-open', to: 'closed' });
  });

  it('ignores probes of an earlier half-open period', () => {
    // Period 1 (after opening at 1000) re-opened at 6100; period 2 starts at 11100.
    const reopened = run(halfOpen(), [probeFail], 6_100).state;
    const second = run(reopened, [acquire, acquire], 11_100).state;
    const stale = run(second, [probeOk, { type: 'cancel', probe: true, period: 1_000 }, acquire], 11_200);
    expect(stale.steps.at(-1)?.permitted).toBe(false);
    expect(stale.state).toEqual(second);
  });

  it('re-opens on a failed probe', () => {
    const { state } = run(halfOpen(), [probeFail], 6_100);
    expect(state).toEqual({ kind: 'open', openedAt: 6_100, calls: 1, failureRate: 1 });
  });

  it('gives up on probes that never report back after maxWaitInHalfOpenMs, and admits fresh ones later', () => {
    // halfOpen() admitted one probe at 6_000 (half-open since 6_000); its outcome never comes.
    const lost = halfOpen();
    const [stillWaiting] = run(lost, [acquire, acquire], 6_000 + options.maxWaitInHalfOpenMs - 1).steps.slice(-1);
    expect(stillWaiting?.state.kind).toBe('half-open');
    const givenUp = breakerStep(lost, acquire, 6_000 + options.maxWaitInHalfOpenMs, options);
    expect(givenUp.permitted).toBe(false);
    expect(givenUp.state).toMatchObject({ kind: 'open', openedAt: 6_000 + options.maxWaitInHalfOpenMs });
    expect(givenUp.transition).toEqual({ from: 'half-open', to: 'open' });
    // The next half-open period admits probes again; the lost probe's late success is no probe of it.
    const later = 6_000 + options.maxWaitInHalfOpenMs + options.openDurationMs;
    const fresh = breakerStep(givenUp.state, acquire, later, options);
    expect(fresh).toMatchObject({ permitted: true, probe: true });
    expect(breakerStep(fresh.state, probeOk, later, options).state).toEqual(fresh.state);
  });

  it('counts the give-up timer from the latest probe, so sparse probes after a long quiet spell close it', () => {
    // Opened at 1_000; nobody calls for a minute; then one call every 45 s, each answered in 50 ms.
    let state: BreakerState = { kind: 'open', openedAt: 1_000 };
    const transitions: string[] = [];
    for (const at of [61_000, 106_000]) {
      const permit = breakerStep(state, acquire, at, options);
      expect(permit).toMatchObject({ permitted: true, probe: true, period: 1_000 });
      const done = breakerStep(permit.state, { type: 'outcome', failed: false, durationMs: 50, probe: true, period: 1_000 }, at + 50, options);
      for (const step of [permit, done]) if (step.transition) transitions.push(`${step.transition.from}->${step.transition.to}`);
      state = done.state;
    }
    expect(state).toMatchObject({ kind: 'closed', since: 106_050 });
    expect(transitions).toEqual(['open->half-open', 'half-open->closed']);
  });

  it('re-opens on any failure that ends while half-open: a call admitted before it opened, or a probe of an earlier period', () => {
    const beforeOpening: BreakerInput = { type: 'outcomes', calls: 3, failures: 1, slow: 0, at: 6_050, failedAt: 6_040 };
    expect(run(halfOpen(), [beforeOpening], 6_100).state).toEqual({ kind: 'open', openedAt: 6_100, calls: 1, failureRate: 1 });
    const earlierProbe: BreakerInput = { type: 'outcome', failed: true, durationMs: 10, probe: true, period: 0 };
    expect(run(halfOpen(), [earlierProbe], 6_100).state).toMatchObject({ kind: 'open', openedAt: 6_100 });
    // Failures that ended before the open period was over were already acted on.
    const duringOpen: BreakerInput = { type: 'outcomes', calls: 3, failures: 3, slow: 0, at: 5_000, failedAt: 5_000 };
    expect(run(halfOpen(), [duringOpen], 6_100).state.kind).toBe('half-open');
  });

  it('gives a cancelled probe slot back', () => {
    // halfOpen() already admitted one probe; the second fills the two slots.
    const { steps } = run(halfOpen(), [acquire, acquire, { type: 'cancel', probe: true, period: 1_000 }, acquire], 6_000);
    expect(steps.map((s) => s.permitted)).toEqual([true, false, undefined, true]);
  });
});

describe('snapshot', () => {
  it('reports state, failure rate, calls and the next probe time', () => {
    const closed = run(closedBreaker(), [ok(), fail(), ok()], 1_000).state;
    expect(breakerSnapshot(closed, 1_000, options)).toEqual({ state: 'closed', failureRate: 0.333, calls: 3 });
    expect(breakerSnapshot({ kind: 'open', openedAt: 1_000, calls: 4, failureRate: 0.75 }, 2_000, options)).toEqual({
      state: 'open',
      failureRate: 0.75,
      calls: 4,
      openedAt: 1_000,
      nextProbeAt: 6_000,
    });
    expect(breakerSnapshot({ kind: 'open', openedAt: 1_000 }, 6_000, options).state).toBe('half-open');
  });
});

// Random interleavings: calls are acquired, finish (ok, failed, slow) or are cancelled in any
// order, while time moves forward by random amounts.
// Weighted so that runs often open the breaker, wait out the open period and go through
// half-open with probes succeeding and failing: the states the properties are about.
const operation = fc.oneof(
  { arbitrary: fc.record({ kind: fc.constant('acquire' as const) }), weight: 4 },
  {
    arbitrary: fc.record({ kind: fc.constant('finish' as const), pick: fc.nat(), failed: fc.boolean(), durationMs: fc.integer({ min: 0, max: 2_000 }) }),
    weight: 4,
  },
  { arbitrary: fc.record({ kind: fc.constant('cancel' as const), pick: fc.nat() }), weight: 1 },
  { arbitrary: fc.record({ kind: fc.constant('wait' as const), ms: fc.integer({ min: 0, max: 7_000 }) }), weight: 2 },
);

const randomOptions = fc.record({
  failureRateThreshold: fc.integer({ min: 1, max: 100 }),
  slowCallRateThreshold: fc.integer({ min: 1, max: 100 }),
  slowCallDurationMs: fc.integer({ min: 1, max: 2_000 }),
  minimumCalls: fc.integer({ min: 1, max: 10 }),
  slidingWindowMs: fc.integer({ min: 1_000, max: 60_000 }),
  windowBuckets: fc.integer({ min: 1, max: 20 }),
  openDurationMs: fc.integer({ min: 1, max: 10_000 }),
  halfOpenMaxCalls: fc.integer({ min: 1, max: 5 }),
  maxWaitInHalfOpenMs: fc.integer({ min: 1, max: 20_000 }),
});

describe('properties', () => {
  it('closes after halfOpenMaxCalls successful probes however long the quiet spell and however sparse the probes', () => {
    fc.assert(
      fc.property(
        randomOptions,
        fc.integer({ min: 0, max: 600_000 }),
        fc.array(fc.integer({ min: 0, max: 120_000 }), { minLength: 5, maxLength: 5 }),
        (opts, quietMs, gaps) => {
          // A probe's call lasts less than the route's deadline, which is less than maxWaitInHalfOpenMs.
          const callMs = Math.floor(opts.maxWaitInHalfOpenMs / 2);
          let state: BreakerState = { kind: 'open', openedAt: 0 };
          let now = opts.openDurationMs + quietMs;
          for (let i = 0; i < opts.halfOpenMaxCalls; i++) {
            const permit = breakerStep(state, acquire, now, opts);
            expect(permit.permitted).toBe(true);
            now += callMs;
            state = breakerStep(permit.state, { type: 'outcome', failed: false, durationMs: callMs, probe: true, period: permit.period }, now, opts).state;
            now += gaps[i] ?? 0;
          }
          expect(state.kind).toBe('closed');
        },
      ),
      { numRuns: 300 },
    );
  });

  it('never has more than halfOpenMaxCalls probes admitted in one half-open period', () => {
    fc.assert(
      fc.property(randomOptions, fc.array(operation, { minLength: 50, maxLength: 300 }), (opts, ops) => {
        let state = closedBreaker();
        let now = 0;
        const pending: { probe: boolean; period?: number }[] = [];
        let probesThisPeriod = 0;
        for (const op of ops) {
          let input: BreakerInput;
          if (op.kind === 'wait') {
            now += op.ms;
            continue;
          } else if (op.kind === 'acquire') input = acquire;
          else {
            if (pending.length === 0) continue;
            const [call] = pending.splice(op.pick % pending.length, 1);
            const { probe, period } = call!;
            input = op.kind === 'finish' ? { type: 'outcome', failed: op.failed, durationMs: op.durationMs, probe, period } : { type: 'cancel', probe, period };
          }
          const step = breakerStep(state, input, now, opts);
          if (step.transition?.to === 'half-open') probesThisPeriod = 0;
          if (step.permitted) {
            pending.push({ probe: step.probe ?? false, period: step.period });
            if (step.probe) probesThisPeriod++;
          }
          // A cancelled probe is not a probe that ran: it gives its slot back.
          if (input.type === 'cancel' && input.probe && step.state.kind === 'half-open' && input.period === step.state.openedAt) probesThisPeriod--;
          expect(probesThisPeriod).toBeLessThanOrEqual(opts.halfOpenMaxCalls);
          if (step.state.kind === 'half-open') {
            const period = step.state.openedAt;
            expect(pending.filter((p) => p.probe && p.period === period).length).toBeLessThanOrEqual(opts.halfOpenMaxCalls);
          }
          state = step.state;
        }
      }),
      { numRuns: 300 },
    );
  });

  it('never opens from closed with fewer than minimumCalls outcomes since it last closed', () => {
    fc.assert(
      fc.property(randomOptions, fc.array(operation, { minLength: 50, maxLength: 300 }), (opts, ops) => {
        let state = closedBreaker();
        let now = 0;
        let outcomesWhileClosed = 0;
        for (const op of ops) {
          if (op.kind === 'wait') {
            now += op.ms;
            continue;
          }
          if (op.kind === 'cancel') continue;
          const input: BreakerInput = op.kind === 'acquire' ? acquire : state.kind === 'half-open'
              ? { type: 'outcome', failed: op.failed, durationMs: op.durationMs, probe: true, period: state.openedAt }
              : { type: 'outcome', failed: op.failed, durationMs: op.durationMs, probe: false };
          if (input.type === 'outcome' && state.kind === 'closed') outcomesWhileClosed++;
          const step = breakerStep(state, input, now, opts);
          if (step.transition?.from === 'closed' && step.transition.to === 'open') expect(outcomesWhileClosed).toBeGreaterThanOrEqual(opts.minimumCalls);
          if (step.transition?.to === 'closed') outcomesWhileClosed = 0;
          state = step.state;
        }
      }),
      { numRuns: 300 },
    );
  });
});
