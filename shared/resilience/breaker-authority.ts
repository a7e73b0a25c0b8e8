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
 * The source of truth for one upstream's breaker (docs/architecture.md, decision 2): a Durable Object in the
 * gateway, an in-memory one in tests and single-process gateways. Isolates report closed-state
 * outcomes as counts, ask it for half-open probe permits, and report or hand back each probe.
 */
export interface BreakerAuthority {
  /** The breaker as it stands, changing nothing: what a new isolate starts from. */
  current(): Promise<BreakerView>;
  report(options: CircuitBreakerOptions, counts: OutcomeCounts): Promise<BreakerView>;
  acquireProbe(options: CircuitBreakerOptions): Promise<{ permitted: boolean; period?: number; view: BreakerView }>;
  probeOutcome(options: CircuitBreakerOptions, outcome: CallOutcome & { period: number }): Promise<BreakerView>;
  /** A probe permit whose call was never made (its caller gave up first): the slot goes back. */
  cancelProbe(options: CircuitBreakerOptions, period: number): Promise<BreakerView>;
}
