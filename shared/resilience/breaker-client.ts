import type { BreakerAuthority, BreakerView, CallOutcome, TimedOutcomes } from './breaker-authority';
import { breakerStep, closedBreaker, type BreakerState, type CircuitBreakerOptions } from './circuit-breaker';

export interface BreakerPermit {
  permitted: boolean;
  /** Present when the call runs as a half-open probe: hand it back with the outcome. */
  probePeriod?: number;
  /** Granted by this isolate's own breaker, while the authority could not be reached. */
  local?: boolean;
}

export interface BreakerClientOptions {
  breaker: CircuitBreakerOptions;
  /** The upstream's authority (its Durable Object stub, or Redis, or memory). */
  authority: () => BreakerAuthority;
  /** Outcomes are sent at most this often; failures go at once. */
  reportIntervalMs: number;
  /**
   * After the authority refuses a probe (all permits taken), calls are refused locally for this
   * long before it is asked again, so a recovering upstream does not cost a remote call per
   * request. Default: a tenth of the open period, at most one second.
   */
  probeRecheckMs?: number;
  /** A report not answered within this long is taken as lost, so the next one may go. Default 10 s. */
  reportTimeoutMs?: number;
  /**
   * How long a call waits for the authority's answer to a permit request before this isolate
   * decides alone (see "When the authority cannot be reached" below). Default 1 s.
   */
  answerTimeoutMs?: number;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

/** Outcomes of calls that ended within one slice of time, on this isolate's clock. */
interface PendingSlice {
  start: number;
  calls: number;
  failures: number;
  slow: number;
  /** When the newest of them ended, and the newest failure among them. */
  lastAt: number;
  lastFailedAt?: number;
}

const CLOSED_PERMIT: BreakerPermit = Object.freeze({ permitted: true });
const LOCAL_PERMIT: BreakerPermit = Object.freeze({ permitted: true, local: true });
const REFUSED: BreakerPermit = Object.freeze({ permitted: false });

/**
 * One isolate's cache of one upstream's breaker, so the hot path does not wait on the authority
 * (a Durable Object per upstream) when it need not:
 * - closed: calls go ahead with no remote call for one open period after the authority last said
 *   "closed" (a lease: the authority cannot admit a half-open probe sooner than one open period
 *   after it stopped being closed, so an isolate acting on a closed view never adds an unpermitted
 *   call to a half-open period). Reports renew it, so under steady traffic no call waits; the
 *   first call after a quiet open period asks the authority for a permit and waits for the answer.
 * - outcomes are added up per slice of time and reported with their ages (the returned promises
 *   are for `waitUntil`), a failure at once so the breaker opens within a few calls. Outcomes
 *   older than the window are dropped here and ignored there: a report delayed by an outage never
 *   replays stale failures onto a healthy upstream.
 * - open: calls are refused locally until the open period ends, with no remote call;
 * - after that: calls ask the authority for a probe permit, so at most `halfOpenMaxCalls` probes
 *   run across all isolates, and each probe's outcome is reported straight away.
 * Whatever the authority answers replaces the cached view.
 *
 * When the authority cannot be reached (one rule, for every isolate, whatever it saw before): when
 * this isolate needs an answer (its closed lease ran out, or a probe may be due) and gets none (an
 * error, or nothing within `answerTimeoutMs`), it becomes its own breaker: the same state machine
 * over its own calls, starting from the last state it learnt (closed, with its unreported
 * outcomes, for an isolate that never reached the authority). It opens on its own failures,
 * probes after its own open period with its own `halfOpenMaxCalls`, and keeps reporting its
 * outcomes; the first answer from the authority ends it. The breaker never becomes the outage,
 * and never stops protecting the upstream; what is lost meanwhile is only the limit on probes
 * across isolates.
 *
 * No promise is shared between requests: on workerd a request must not wait on work another
 * request started (and that request's `waitUntil` may be cut short). Each report belongs to the
 * call that sends it; "one report on its way" is a timestamped flag, not a shared promise.
 */
export class BreakerClient {
  private view: BreakerView = { state: 'closed' };
  /** Until when (this isolate's clock) a closed view may be acted on without asking. */
  private closedUntil = 0;
  /** When the request behind the newest answer learnt was sent. */
  private learntSentAt = Number.NEGATIVE_INFINITY;
  /** This isolate's own breaker while the authority cannot be reached; null otherwise. */
  private local: BreakerState | null = null;
  /** Unreported outcomes, oldest slice first. */
  private pending: PendingSlice[] = [];
  private scheduled = false;
  /** When the report on its way was sent; null when none is. */
  private sendingSince: number | null = null;
  private refuseUntil = 0;
  private readonly now: () => number;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly sliceMs: number;
  private readonly recheckMs: number;

  constructor(private readonly options: BreakerClientOptions) {
    this.now = options.now ?? Date.now;
    this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    const { slidingWindowMs, windowBuckets, openDurationMs } = options.breaker;
    this.sliceMs = Math.max(1, Math.floor(slidingWindowMs / windowBuckets));
    this.recheckMs = options.probeRecheckMs ?? Math.min(1_000, openDurationMs / 10);
  }

  get cachedView(): BreakerView {
    return this.view;
  }

  /** Whether this isolate is deciding alone because the authority could not be reached. */
  get decidingAlone(): boolean {
    return this.local !== null;
  }

  /**
   * Whether a call may go ahead now. Answers synchronously unless the authority must be asked (a
   * closed lease ran out, or a probe may be due), so the hot path costs no promise and no remote
   * call while the lease holds, while open, and while deciding alone.
   */
  acquire(): BreakerPermit | Promise<BreakerPermit> {
    const now = this.now();
    if (this.local) return this.acquireAlone(now);
    if (this.view.state === 'closed') return now < this.closedUntil ? CLOSED_PERMIT : this.ask(now);
    if (now < this.localRefusalEnds()) return REFUSED;
    return this.ask(now);
  }

  /** How long a refused caller should wait before trying again (for `Retry-After`). */
  retryAfterMs(): number {
    const now = this.now();
    if (this.local) return this.local.kind === 'open' ? Math.max(0, this.local.openedAt + this.options.breaker.openDurationMs - now) : this.recheckMs;
    return Math.max(0, this.localRefusalEnds() - now);
  }

  /** Until when this isolate refuses calls without asking the authority. */
  private localRefusalEnds(): number {
    const openUntil = this.view.state === 'open' ? (this.view.openedAt ?? 0) + this.options.breaker.openDurationMs : 0;
    return Math.max(openUntil, this.refuseUntil);
  }

  /** Asks the authority for a permit; without an answer, decides alone. */
  private async ask(sentAt: number): Promise<BreakerPermit> {
    let answer: Awaited<ReturnType<BreakerAuthority['acquireProbe']>>;
    try {
      answer = await this.answerOf(this.options.authority().acquireProbe(this.options.breaker));
    } catch {
      return this.acquireAlone(this.now());
    }
    this.learn(answer.view, sentAt);
    if (answer.permitted) return answer.period === undefined ? CLOSED_PERMIT : { permitted: true, probePeriod: answer.period };
    this.refuseUntil = sentAt + this.recheckMs;
    return REFUSED;
  }

  /**
   * The authority's answer, or a rejection after `answerTimeoutMs`. A probe permit that arrives
   * after that is handed back, so its slot is not held by a call that was never made.
   */
  private answerOf<T extends { period?: number }>(asked: Promise<T>): Promise<T> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    let late = false;
    const expired = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        late = true;
        reject(new Error('breaker authority: no answer in time'));
      }, this.options.answerTimeoutMs ?? 1_000);
    });
    asked.then(
      (answer) => {
        if (late && answer.period !== undefined) void this.cancel({ permitted: true, probePeriod: answer.period });
      },
      () => undefined,
    );
    return Promise.race([asked, expired]).finally(() => clearTimeout(timer));
  }

  /**
   * An answer from the authority: the view it gives replaces this isolate's, and ends deciding
   * alone. Answers can arrive out of order (a slow permit request overtaken by a report); one sent
   * before the newest answer already learnt is older news and changes nothing, or it would roll the
   * view and the closed lease back.
   */
  private learn(view: BreakerView, sentAt: number): void {
    if (sentAt < this.learntSentAt) return;
    this.learntSentAt = sentAt;
    this.view = view;
    this.local = null;
    this.closedUntil = view.state === 'closed' ? sentAt + this.options.breaker.openDurationMs : 0;
  }

  /** A permit from this isolate's own breaker, which starts from the last view it learnt. */
  private acquireAlone(now: number): BreakerPermit {
    this.local ??= this.startAlone(now);
    const step = breakerStep(this.local, { type: 'acquire' }, now, this.options.breaker);
    this.local = step.state;
    if (!step.permitted) return REFUSED;
    return step.probe ? { permitted: true, probePeriod: step.period, local: true } : LOCAL_PERMIT;
  }

  private startAlone(now: number): BreakerState {
    if (this.view.state !== 'closed') return { kind: 'open', openedAt: this.view.openedAt ?? now };
    let state = closedBreaker();
    for (const slice of this.pending) {
      const input = { type: 'outcomes' as const, calls: slice.calls, failures: slice.failures, slow: slice.slow, at: slice.lastAt };
      state = breakerStep(state, input, now, this.options.breaker).state;
    }
    return state;
  }

  /** A permitted call that was never made: a probe's slot goes back to whoever granted it. */
  cancel(permit: BreakerPermit): Promise<void> | undefined {
    if (permit.probePeriod === undefined) return undefined;
    const period = permit.probePeriod;
    if (permit.local) {
      if (this.local) this.local = breakerStep(this.local, { type: 'cancel', probe: true, period }, this.now(), this.options.breaker).state;
      return undefined;
    }
    return this.remote((authority) => authority.cancelProbe(this.options.breaker, period));
  }

  /** Records a permitted call's outcome; returns work for `waitUntil`, or undefined if none is due. */
  record(permit: BreakerPermit, outcome: CallOutcome): Promise<void> | undefined {
    const now = this.now();
    if (permit.probePeriod !== undefined && !permit.local) {
      const period = permit.probePeriod;
      return this.remote((authority) => authority.probeOutcome(this.options.breaker, { ...outcome, period }));
    }
    if (this.local) {
      const probe = permit.probePeriod !== undefined;
      const input = { type: 'outcome' as const, failed: outcome.failed, durationMs: outcome.durationMs, probe, period: permit.probePeriod };
      this.local = breakerStep(this.local, input, now, this.options.breaker).state;
    }
    this.add(outcome, now);
    if (outcome.failed) {
      const sent = this.flush();
      if (sent) return sent;
    }
    if (this.scheduled) return undefined;
    this.scheduled = true;
    return this.sleep(this.options.reportIntervalMs).then(() => {
      this.scheduled = false;
      return this.flush();
    });
  }

  private add(outcome: CallOutcome, now: number): void {
    this.prune(now);
    const start = now - (now % this.sliceMs);
    let slice = this.pending.at(-1);
    if (!slice || slice.start !== start) {
      slice = { start, calls: 0, failures: 0, slow: 0, lastAt: now };
      this.pending.push(slice);
    }
    slice.calls++;
    slice.lastAt = now;
    if (outcome.failed) {
      slice.failures++;
      slice.lastFailedAt = now;
    }
    if (outcome.durationMs >= this.options.breaker.slowCallDurationMs) slice.slow++;
  }

  /** Drops outcomes the authority's window no longer holds: what keeps `pending` bounded during an outage. */
  private prune(now: number): void {
    const oldest = now - this.options.breaker.slidingWindowMs;
    if (this.pending.length > 0 && this.pending[0]!.lastAt <= oldest) this.pending = this.pending.filter((slice) => slice.lastAt > oldest);
  }

  /**
   * Sends the outcomes added up so far, unless a report is already on its way (what is pending then
   * goes with a later one: the next failure's, or the scheduled one). Returns the send's promise,
   * or undefined when nothing was sent. Outcomes that could not be delivered are kept (until the
   * window no longer holds them).
   */
  flush(): Promise<void> | undefined {
    const now = this.now();
    this.prune(now);
    if (this.pending.length === 0) return undefined;
    if (this.sendingSince !== null && now - this.sendingSince < (this.options.reportTimeoutMs ?? 10_000)) return undefined;
    const batch = this.pending;
    this.pending = [];
    this.sendingSince = now;
    const timed = batch.map(
      (slice): TimedOutcomes => ({
        calls: slice.calls,
        failures: slice.failures,
        slow: slice.slow,
        ageMs: now - slice.lastAt,
        ...(slice.lastFailedAt === undefined ? {} : { failedAgeMs: now - slice.lastFailedAt }),
      }),
    );
    const send = async () => {
      try {
        this.learn(await this.options.authority().report(this.options.breaker, timed), now);
      } catch {
        this.pending = mergeSlices(batch, this.pending);
      } finally {
        if (this.sendingSince === now) this.sendingSince = null;
      }
    };
    return send();
  }

  /** One call to the authority whose answer replaces the cached view; a failed call changes nothing here. */
  private async remote(call: (authority: BreakerAuthority) => Promise<BreakerView>): Promise<void> {
    const sentAt = this.now();
    try {
      this.learn(await call(this.options.authority()), sentAt);
    } catch {
      // A lost probe report is recovered by the breaker itself (maxWaitInHalfOpenMs).
    }
  }
}

/** Two lists of slices as one, in time order, slices of the same start added together. */
function mergeSlices(older: PendingSlice[], newer: PendingSlice[]): PendingSlice[] {
  const byStart = new Map<number, PendingSlice>();
  for (const slice of [...older, ...newer]) {
    const same = byStart.get(slice.start);
    if (!same) {
      byStart.set(slice.start, { ...slice });
      continue;
    }
    same.calls += slice.calls;
    same.failures += slice.failures;
    same.slow += slice.slow;
    same.lastAt = Math.max(same.lastAt, slice.lastAt);
    if (slice.lastFailedAt !== undefined) same.lastFailedAt = Math.max(same.lastFailedAt ?? slice.lastFailedAt, slice.lastFailedAt);
  }
  return [...byStart.values()].sort((a, b) => a.start - b.start);
}
