import type { BreakerAuthority, BreakerView, CallOutcome, OutcomeCounts } from './breaker-authority';
import type { CircuitBreakerOptions } from './circuit-breaker';

export interface BreakerPermit {
  permitted: boolean;
  /** Present when the call runs as a half-open probe: hand it back with the outcome. */
  probePeriod?: number;
}

export interface BreakerClientOptions {
  breaker: CircuitBreakerOptions;
  /** The upstream's authority (its Durable Object stub). */
  authority: () => BreakerAuthority;
  /** Closed-state outcomes are sent at most this often; failures go at once. */
  reportIntervalMs: number;
  /**
   * After the authority refuses a probe (all permits taken), calls are refused locally for this
   * long before it is asked again, so a recovering upstream does not cost a remote call per
   * request. Default: a tenth of the open period, at most one second.
   */
  probeRecheckMs?: number;
  /** A report not answered within this long is taken as lost, so the next one may go. Default 10 s. */
  reportTimeoutMs?: number;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

const CLOSED_PERMIT: BreakerPermit = Object.freeze({ permitted: true });
const REFUSED: BreakerPermit = Object.freeze({ permitted: false });
const noCounts = (): OutcomeCounts => ({ calls: 0, failures: 0, slow: 0 });

/**
 * One isolate's cache of one upstream's breaker, so the hot path does not wait on the Durable
 * Object when it need not (docs/architecture.md, decision 2). It learns the state once when it starts; then:
 * - closed: calls go ahead with no remote call; outcomes are added up and reported as counts
 *   (the returned promises are for `waitUntil`), a failure at once so the breaker opens within a
 *   few calls;
 * - open: calls are refused locally until the open period ends, with no remote call;
 * - after that: every call asks the authority for a probe permit, so at most `halfOpenMaxCalls`
 *   probes run across all isolates, and each probe's outcome is reported straight away.
 * Whatever the authority answers replaces the cached view.
 *
 * No promise is shared between requests: on workerd a request must not wait on work another
 * request started (and that request's `waitUntil` may be cut short). Each report belongs to the
 * call that sends it; "one report on its way" is a timestamped flag, not a shared promise.
 */
export class BreakerClient {
  private view: BreakerView = { state: 'closed' };
  private pending: OutcomeCounts = noCounts();
  private scheduled = false;
  /** When the report on its way was sent; null when none is. */
  private sendingSince: number | null = null;
  private refuseUntil = 0;
  /** Whether this client has learnt the authority's state since it was made. */
  private synced = false;
  private readonly now: () => number;
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(private readonly options: BreakerClientOptions) {
    this.now = options.now ?? Date.now;
    this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
  }

  get cachedView(): BreakerView {
    return this.view;
  }

  /**
   * Whether a call may go ahead now. Answers synchronously unless a probe may be due (only then is
   * the authority asked), so the closed hot path costs no promise and no remote call.
   */
  acquire(): BreakerPermit | Promise<BreakerPermit> {
    if (!this.synced) return this.syncThenAcquire();
    if (this.view.state === 'closed') return CLOSED_PERMIT;
    const now = this.now();
    if (now < this.localRefusalEnds()) return REFUSED;
    return this.askForProbe(now);
  }

  /**
   * A new isolate (a deploy, a recycled one) asks the authority once before its first call, so a
   * breaker that is already open refuses here at once instead of letting calls through until this
   * isolate's own failures are reported. If the authority cannot be reached, start closed: the
   * breaker must never become the outage.
   */
  private async syncThenAcquire(): Promise<BreakerPermit> {
    try {
      this.view = await this.options.authority().current();
    } catch {
      // Reports retry later, and their answers carry the state.
    }
    this.synced = true;
    return this.acquire();
  }

  /** How long a refused caller should wait before trying again (for `Retry-After`). */
  retryAfterMs(): number {
    return Math.max(0, this.localRefusalEnds() - this.now());
  }

  /** Until when this isolate refuses calls without asking the authority. */
  private localRefusalEnds(): number {
    const openUntil = this.view.state === 'open' ? (this.view.openedAt ?? 0) + this.options.breaker.openDurationMs : 0;
    return Math.max(openUntil, this.refuseUntil);
  }

  private async askForProbe(now: number): Promise<BreakerPermit> {
    try {
      const answer = await this.options.authority().acquireProbe(this.options.breaker);
      this.view = answer.view;
      if (answer.permitted) return { permitted: true, probePeriod: answer.period };
      if (this.view.state === 'closed') return CLOSED_PERMIT;
    } catch {
      // No authority, no probe: stay refused rather than let every isolate probe at once.
    }
    this.refuseUntil = now + (this.options.probeRecheckMs ?? Math.min(1_000, this.options.breaker.openDurationMs / 10));
    return REFUSED;
  }

  /** A permitted call that was never made: a probe's slot goes back to the authority. */
  cancel(permit: BreakerPermit): Promise<void> | undefined {
    if (permit.probePeriod === undefined) return undefined;
    const period = permit.probePeriod;
    return this.remote((authority) => authority.cancelProbe(this.options.breaker, period));
  }

  /** Records a permitted call's outcome; returns work for `waitUntil`, or undefined if none is due. */
  record(permit: BreakerPermit, outcome: CallOutcome): Promise<void> | undefined {
    if (permit.probePeriod !== undefined) {
      const period = permit.probePeriod;
      return this.remote((authority) => authority.probeOutcome(this.options.breaker, { ...outcome, period }));
    }
    this.pending.calls++;
    if (outcome.failed) this.pending.failures++;
    if (outcome.durationMs >= this.options.breaker.slowCallDurationMs) this.pending.slow++;
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

  /**
   * Sends the counts added up so far, unless a report is already on its way (what is pending then
   * goes with a later one: the next failure's, or the scheduled one). Returns the send's promise,
   * or undefined when nothing was sent. Counts that could not be delivered are kept.
   */
  flush(): Promise<void> | undefined {
    if (this.pending.calls === 0) return undefined;
    const now = this.now();
    if (this.sendingSince !== null && now - this.sendingSince < (this.options.reportTimeoutMs ?? 10_000)) return undefined;
    const batch = this.pending;
    this.pending = noCounts();
    this.sendingSince = now;
    const send = async () => {
      try {
        this.view = await this.options.authority().report(this.options.breaker, batch);
      } catch {
        this.pending = { calls: this.pending.calls + batch.calls, failures: this.pending.failures + batch.failures, slow: this.pending.slow + batch.slow };
      } finally {
        if (this.sendingSince === now) this.sendingSince = null;
      }
    };
    return send();
  }

  /** One call to the authority whose answer replaces the cached view; a failed call changes nothing here. */
  private async remote(call: (authority: BreakerAuthority) => Promise<BreakerView>): Promise<void> {
    try {
      this.view = await call(this.options.authority());
    } catch {
      // A lost probe report is recovered by the breaker itself (maxWaitInHalfOpenMs).
    }
  }
}
