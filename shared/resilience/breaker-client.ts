import type { BreakerAuthority, BreakerView, CallOutcome } from './breaker-authority';
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
  /** Outcomes kept while the authority is unreachable; older ones are dropped first. */
  maxPending?: number;
  /**
   * After the authority refuses a probe (all permits taken), calls are refused locally for this
   * long before it is asked again, so a recovering upstream does not cost a remote call per
   * request. Default: a tenth of the open period, at most one second.
   */
  probeRecheckMs?: number;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

const CLOSED_PERMIT: BreakerPermit = Object.freeze({ permitted: true });
const REFUSED: BreakerPermit = Object.freeze({ permitted: false });

/**
 * One isolate's cache of one upstream's breaker, so the hot path does not wait on the Durable
 * Object when it need not (DESIGN.md decision 2). It learns the state once when it starts; then:
 * - closed: calls go ahead with no remote call; outcomes are reported in batches (the returned
 *   promises are for `waitUntil`), a failure at once so the breaker opens within a few calls;
 * - open: calls are refused locally until the open period ends, with no remote call;
 * - after that: every call asks the authority for a probe permit, so at most `halfOpenMaxCalls`
 *   probes run across all isolates, and each probe's outcome is reported straight away.
 * Whatever the authority answers replaces the cached view.
 */
export class BreakerClient {
  private view: BreakerView = { state: 'closed' };
  private pending: CallOutcome[] = [];
  private scheduled = false;
  private flushing: Promise<void> | null = null;
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

  /** Records a permitted call's outcome; returns work for `waitUntil`, or undefined if none is due. */
  record(permit: BreakerPermit, outcome: CallOutcome): Promise<void> | undefined {
    if (permit.probePeriod !== undefined) {
      return this.options
        .authority()
        .probeOutcome(this.options.breaker, { ...outcome, period: permit.probePeriod })
        .then((view) => void (this.view = view))
        .catch(() => undefined);
    }
    this.pending.push(outcome);
    const max = this.options.maxPending ?? 1_000;
    if (this.pending.length > max) this.pending.splice(0, this.pending.length - max);
    if (outcome.failed) return this.flush();
    if (this.scheduled) return undefined;
    this.scheduled = true;
    return this.sleep(this.options.reportIntervalMs).then(() => {
      this.scheduled = false;
      return this.flush();
    });
  }

  /**
   * Sends what is pending; on failure it is kept for the next report. At most one report is on
   * its way per isolate: outcomes arriving meanwhile go with the next one, so even a steady
   * trickle of failures costs one call to the authority per round trip, not one per failure.
   */
  flush(): Promise<void> {
    if (this.flushing) return this.flushing;
    this.flushing = (async () => {
      try {
        while (this.pending.length > 0) {
          const batch = this.pending;
          this.pending = [];
          try {
            this.view = await this.options.authority().report(this.options.breaker, batch);
          } catch {
            this.pending = [...batch, ...this.pending];
            return;
          }
        }
      } finally {
        this.flushing = null;
      }
    })();
    return this.flushing;
  }
}
