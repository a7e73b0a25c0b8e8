import type { BreakerStateName, CircuitBreakerOptions, OutcomeCounts } from './circuit-breaker';

/** What an isolate needs to know of a breaker to decide locally. */
export interface BreakerView {
  state: BreakerStateName;
  /** When it last opened (also names the half-open period that follows). */
  openedAt?: number;
}

export interface CallOutcome {
  failed: boolean;
  durationMs: number;
}

export type { OutcomeCounts };

/**
 * Outcomes an isolate added up, with how long ago (on its own clock, when it sent them) the newest
 * of them ended and the newest failure among them ended. Ages, not times: the isolate's and the
 * authority's clocks need not agree, only run at the same rate. Without ages (an older isolate),
 * the outcomes are taken as just ended.
 */
export interface TimedOutcomes extends OutcomeCounts {
  ageMs?: number;
  failedAgeMs?: number;
}

/**
 * The source of truth for one upstream's breaker: a Durable Object in the gateway, Redis for
 * portable gateways of several processes, an in-memory one in tests and single-process gateways.
 * Isolates report the outcomes of calls they made without a probe permit as timed counts, ask it
 * for a permit when their view of it has run out (a closed view lasts one open period) or a probe
 * may be due, and report or hand back each probe.
 */
export interface BreakerAuthority {
  /** The breaker as it stands, changing nothing. */
  current(): Promise<BreakerView>;
  /** Outcomes of calls made without a probe permit: one batch, or several of different ages. */
  report(options: CircuitBreakerOptions, outcomes: TimedOutcomes | TimedOutcomes[]): Promise<BreakerView>;
  /**
   * Asks to make a call: closed answers permitted (no probe), open refuses, half-open grants a
   * probe while fewer than `halfOpenMaxCalls` are taken.
   */
  acquireProbe(options: CircuitBreakerOptions): Promise<{ permitted: boolean; period?: number; view: BreakerView }>;
  probeOutcome(options: CircuitBreakerOptions, outcome: CallOutcome & { period: number }): Promise<BreakerView>;
  /** A probe permit whose call was never made (its caller gave up first): the slot goes back. */
  cancelProbe(options: CircuitBreakerOptions, period: number): Promise<BreakerView>;
}
