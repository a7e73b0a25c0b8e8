/**
 * The circuit breaker's decision, as a pure state machine: `(state, input, now) → result`, no
 * timers and no I/O. The distributed breaker (a Durable Object per upstream, with each gateway
 * isolate caching its state) is a shell around this function, and property tests drive it
 * through random interleavings without sleeping.
 *
 * Semantics and option names follow resilience4j, which most users already know:
 * - closed: every call is permitted; outcomes fill a time-based rolling window. Once the window
 *   holds at least `minimumCalls` calls and the failure rate or the slow-call rate reaches its
 *   threshold, the breaker opens.
 * - open: every call is refused until `openDurationMs` has passed since it opened. There is no
 *   timer: the next acquire after that moment finds the breaker half-open (a lazy transition).
 * - half-open: at most `halfOpenMaxCalls` probes are admitted in all; one failure re-opens the
 *   breaker, and once that many probes have succeeded it closes with an empty window. Probes that
 *   never report back are given up on `maxWaitInHalfOpenMs` after the last one was admitted: it
 *   opens again, and a later half-open period admits fresh probes. The timer starts with a probe,
 *   not with the open period's end, so a breaker nobody called for a minute still closes on the
 *   sparse probes that follow.
 *
 * Outcomes carry the time their call ended. A failure that ended while the breaker was half-open
 * re-opens it, whether a probe or a call admitted before the breaker opened reports it; outcomes
 * older than the window, or older than the moment the breaker last closed, are history and count
 * for nothing (an isolate that could not report for minutes must not open a healthy upstream's
 * breaker with them).
 */

export interface CircuitBreakerOptions {
  /** Percentage (0–100] of failed calls in the window that opens the breaker. */
  failureRateThreshold: number;
  /** Percentage (0–100] of slow calls in the window that opens the breaker; 100 only when all are slow. */
  slowCallRateThreshold: number;
  /** A call taking at least this long counts as slow. */
  slowCallDurationMs: number;
  /** No decision is taken on fewer calls than this in the window. */
  minimumCalls: number;
  /** Length of the rolling window. */
  slidingWindowMs: number;
  /** How many buckets the window is cut into; older buckets fall out whole. */
  windowBuckets: number;
  /** How long the breaker stays open before it lets probes through. */
  openDurationMs: number;
  /** How many probes half-open admits, in all; that many successes close the breaker. */
  halfOpenMaxCalls: number;
  /**
   * How long half-open may wait on probes it admitted before it gives up on them and opens again
   * (resilience4j's maxWaitDurationInHalfOpenState): a probe whose outcome is never reported (its
   * isolate recycled, the report lost) must not hold its slot forever. Keep it above the route's
   * deadline, so a live probe has ended by then.
   */
  maxWaitInHalfOpenMs: number;
}

export const DEFAULT_BREAKER_OPTIONS: CircuitBreakerOptions = {
  failureRateThreshold: 50,
  slowCallRateThreshold: 100,
  slowCallDurationMs: 5_000,
  minimumCalls: 10,
  slidingWindowMs: 30_000,
  windowBuckets: 10,
  openDurationMs: 10_000,
  halfOpenMaxCalls: 3,
  maxWaitInHalfOpenMs: 30_000,
};

export interface WindowBucket {
  /** Start of the bucket's time slot (a multiple of the bucket length). */
  start: number;
  calls: number;
  failures: number;
  slow: number;
}

export type BreakerState =
  /** `since`: when it last closed (absent for a breaker that never opened); earlier outcomes are ignored. */
  | { kind: 'closed'; window: WindowBucket[]; since?: number }
  /** `calls` and `failureRate` (0–1) say what opened it, for operators. */
  | { kind: 'open'; openedAt: number; calls?: number; failureRate?: number }
  /** `probeAdmittedAt`: when the latest probe was admitted; the give-up timer counts from it. */
  | { kind: 'half-open'; openedAt: number; inFlight: number; succeeded: number; probeAdmittedAt?: number };

export type BreakerInput =
  /** A caller asks to make a call. */
  | { type: 'acquire' }
  /**
   * A permitted call finished. `probe` says whether it was admitted as a half-open probe, and
   * `period` (the `period` its acquire returned) which half-open period it belongs to: a probe
   * from an earlier period must not spend or free a slot of the current one.
   */
  | { type: 'outcome'; failed: boolean; durationMs: number; probe: boolean; period?: number }
  /** A permitted call was never made (e.g. refused by a bulkhead): its probe slot is returned. */
  | { type: 'cancel'; probe: boolean; period?: number }
  /**
   * Outcomes added up by an isolate: how many calls, how many failed, how many were slow; `at`:
   * when the newest of them ended, `failedAt`: when the newest failure among them did (both on the
   * authority's clock, at most `now`).
   */
  | ({ type: 'outcomes'; at: number; failedAt?: number } & OutcomeCounts);

export interface OutcomeCounts {
  calls: number;
  failures: number;
  slow: number;
}

export type BreakerStateName = BreakerState['kind'];

export interface BreakerStep {
  state: BreakerState;
  /** For `acquire`: whether the call may go ahead, and whether it is a half-open probe. */
  permitted?: boolean;
  probe?: boolean;
  /** For a probe: its half-open period (the `openedAt` it follows), to hand back with its outcome. */
  period?: number;
  /** Set when this step changed the state's kind, for logs and the transitions counter. */
  transition?: { from: BreakerStateName; to: BreakerStateName };
}

export const closedBreaker = (): BreakerState => ({ kind: 'closed', window: [] });

const bucketLength = (options: CircuitBreakerOptions) => Math.max(1, Math.floor(options.slidingWindowMs / options.windowBuckets));

/** The buckets still inside the window at `now`. */
function liveBuckets(window: WindowBucket[], now: number, options: CircuitBreakerOptions): WindowBucket[] {
  const oldest = now - options.slidingWindowMs;
  return window.filter((bucket) => bucket.start + bucketLength(options) > oldest);
}

export interface WindowTotals {
  calls: number;
  failures: number;
  slow: number;
}

export function windowTotals(window: WindowBucket[], now: number, options: CircuitBreakerOptions): WindowTotals {
  const totals = { calls: 0, failures: 0, slow: 0 };
  for (const bucket of liveBuckets(window, now, options)) {
    totals.calls += bucket.calls;
    totals.failures += bucket.failures;
    totals.slow += bucket.slow;
  }
  return totals;
}

function shouldOpen(totals: WindowTotals, options: CircuitBreakerOptions): boolean {
  if (totals.calls < options.minimumCalls || totals.calls === 0) return false;
  const failureRate = (totals.failures / totals.calls) * 100;
  const slowRate = (totals.slow / totals.calls) * 100;
  return failureRate >= options.failureRateThreshold || slowRate >= options.slowCallRateThreshold;
}

/** The window at `now` with `counts` added to the bucket of `at` (`at` ≤ `now`; buckets stay in time order). */
function withOutcomes(window: WindowBucket[], at: number, now: number, counts: OutcomeCounts, options: CircuitBreakerOptions): WindowBucket[] {
  const length = bucketLength(options);
  const start = at - (at % length);
  const live = liveBuckets(window, now, options);
  const add = (bucket: WindowBucket): WindowBucket => ({
    start: bucket.start,
    calls: bucket.calls + counts.calls,
    failures: bucket.failures + counts.failures,
    slow: bucket.slow + counts.slow,
  });
  const index = live.findIndex((bucket) => bucket.start >= start);
  if (index === -1) return [...live, add({ start, calls: 0, failures: 0, slow: 0 })];
  if (live[index]!.start === start) return live.map((bucket, i) => (i === index ? add(bucket) : bucket));
  return [...live.slice(0, index), add({ start, calls: 0, failures: 0, slow: 0 }), ...live.slice(index)];
}

/** A share in [0, 1], rounded to three places so it reads well in JSON. */
const rate = (part: number, whole: number) => (whole === 0 ? 0 : Math.round((part / whole) * 1000) / 1000);

/** Closed with these outcomes (of calls that ended at `at`) added: open if the window now says so. */
function closedWith(
  current: Extract<BreakerState, { kind: 'closed' }>,
  counts: OutcomeCounts,
  at: number,
  now: number,
  options: CircuitBreakerOptions,
  result: (next: BreakerState) => BreakerStep,
): BreakerStep {
  // History: fallen out of the window, or from before the breaker last closed (the half-open
  // probes have spoken since).
  if (at <= now - options.slidingWindowMs || (current.since !== undefined && at < current.since)) return result(current);
  const window = withOutcomes(current.window, Math.min(at, now), now, counts, options);
  const totals = windowTotals(window, now, options);
  if (shouldOpen(totals, options)) return result({ kind: 'open', openedAt: now, calls: totals.calls, failureRate: rate(totals.failures, totals.calls) });
  return result({ ...current, window });
}

/** Open again at `now` because a call failed while half-open; `calls`/`failureRate` for operators. */
const reopened = (current: Extract<BreakerState, { kind: 'half-open' }>, now: number): BreakerState => ({
  kind: 'open',
  openedAt: now,
  calls: current.succeeded + 1,
  failureRate: rate(1, current.succeeded + 1),
});

const moved = (from: BreakerState, to: BreakerState) => (from.kind === to.kind ? undefined : { from: from.kind, to: to.kind });

/** One step of the breaker. Pure: the same state, input, time and options give the same result. */
export function breakerStep(state: BreakerState, input: BreakerInput, now: number, options: CircuitBreakerOptions): BreakerStep {
  // Lazy open → half-open, and half-open → open when its probes went missing: decided when
  // someone looks, never by a timer.
  let current: BreakerState =
    state.kind === 'open' && now - state.openedAt >= options.openDurationMs
      ? { kind: 'half-open', openedAt: state.openedAt, inFlight: 0, succeeded: 0 }
      : state;
  // Every probe in flight was admitted at or before the latest one; once that one is older than
  // maxWaitInHalfOpenMs (longer than any call may run), those still in flight will never report.
  // Counted from the latest admission, not from the end of the open period: after a quiet spell
  // the first probe must not find the timer already run out. (A state stored before
  // probeAdmittedAt existed falls back to the end of the open period.)
  if (current.kind === 'half-open' && current.inFlight > 0) {
    const waitingSince = current.probeAdmittedAt ?? current.openedAt + options.openDurationMs;
    if (now - waitingSince >= options.maxWaitInHalfOpenMs) {
      current = { kind: 'open', openedAt: now, calls: current.inFlight + current.succeeded, failureRate: rate(current.inFlight, current.inFlight + current.succeeded) };
    }
  }

  const result = (next: BreakerState, extra: Omit<BreakerStep, 'state' | 'transition'> = {}): BreakerStep => ({
    state: next,
    ...extra,
    transition: moved(state, next),
  });

  switch (input.type) {
    case 'acquire': {
      if (current.kind === 'closed') return result(current, { permitted: true, probe: false });
      if (current.kind === 'open') return result(current, { permitted: false, probe: false });
      // Half-open: admitted probes are those in flight plus those that already succeeded.
      if (current.inFlight + current.succeeded >= options.halfOpenMaxCalls) return result(current, { permitted: false, probe: false });
      return result({ ...current, inFlight: current.inFlight + 1, probeAdmittedAt: now }, { permitted: true, probe: true, period: current.openedAt });
    }
    case 'cancel': {
      if (input.probe && current.kind === 'half-open' && input.period === current.openedAt) {
        return result({ ...current, inFlight: Math.max(0, current.inFlight - 1) });
      }
      return result(current);
    }
    case 'outcomes': {
      if (input.calls <= 0) return result(current);
      if (current.kind === 'closed') return closedWith(current, input, input.at, now, options, result);
      // A call admitted before the breaker opened (by an isolate whose view was still closed)
      // that failed once half-open had begun says what a failed probe says.
      const failedAt = input.failures > 0 ? (input.failedAt ?? input.at) : undefined;
      if (current.kind === 'half-open' && failedAt !== undefined && failedAt >= current.openedAt + options.openDurationMs) return result(reopened(current, now));
      // Anything else that ended while open or before: the breaker has already acted on it.
      return result(current);
    }
    case 'outcome': {
      if (current.kind === 'closed') {
        if (input.probe) return result(current); // a probe from an earlier half-open episode
        const slow = input.durationMs >= options.slowCallDurationMs ? 1 : 0;
        return closedWith(current, { calls: 1, failures: input.failed ? 1 : 0, slow }, now, now, options, result);
      }
      if (current.kind !== 'half-open') return result(current); // a call admitted before it opened
      // A failure now, while half-open, re-opens it, even from a probe of an earlier period.
      if (input.failed) return result(reopened(current, now));
      if (input.probe && input.period === current.openedAt) {
        const succeeded = current.succeeded + 1;
        if (succeeded >= options.halfOpenMaxCalls) return result({ kind: 'closed', window: [], since: now });
        return result({ ...current, inFlight: Math.max(0, current.inFlight - 1), succeeded });
      }
      // A success admitted before it opened, or of an earlier period's probes, is no probe of this one.
      return result(current);
    }
  }
}

export interface BreakerSnapshot {
  state: BreakerStateName;
  /** Share of failed calls (0–1): over the window while closed, at the moment it opened while open, null while half-open. */
  failureRate: number | null;
  calls: number;
  openedAt?: number;
  nextProbeAt?: number;
}

/** What `/_ops/breakers` shows for one upstream. */
export function breakerSnapshot(state: BreakerState, now: number, options: CircuitBreakerOptions): BreakerSnapshot {
  if (state.kind === 'closed') {
    const totals = windowTotals(state.window, now, options);
    return { state: 'closed', failureRate: rate(totals.failures, totals.calls), calls: totals.calls };
  }
  if (state.kind === 'open' && now - state.openedAt < options.openDurationMs) {
    return { state: 'open', failureRate: state.failureRate ?? null, calls: state.calls ?? 0, openedAt: state.openedAt, nextProbeAt: state.openedAt + options.openDurationMs };
  }
  const halfOpen = state.kind === 'half-open' ? state : { inFlight: 0, succeeded: 0 };
  return { state: 'half-open', failureRate: null, calls: halfOpen.inFlight + halfOpen.succeeded, openedAt: state.openedAt };
}
