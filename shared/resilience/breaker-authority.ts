import type { BreakerStateName, CircuitBreakerOptions } from './circuit-breaker';

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

/**
 * The source of truth for one upstream's breaker (DESIGN.md decision 2): a Durable Object in the
 * gateway, an in-memory fake in tests. Isolates report closed-state outcomes in batches, ask it
 * for half-open probe permits, and report each probe's outcome.
 */
export interface BreakerAuthority {
  /** The breaker as it stands, changing nothing: what a new isolate starts from. */
  current(): Promise<BreakerView>;
  report(options: CircuitBreakerOptions, outcomes: CallOutcome[]): Promise<BreakerView>;
  acquireProbe(options: CircuitBreakerOptions): Promise<{ permitted: boolean; period?: number; view: BreakerView }>;
  probeOutcome(options: CircuitBreakerOptions, outcome: CallOutcome & { period: number }): Promise<BreakerView>;
}
