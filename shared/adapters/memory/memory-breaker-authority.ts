import type { BreakerAuthority, BreakerView, CallOutcome, TimedOutcomes } from '../../resilience/breaker-authority';
import { BreakerLedger } from '../../resilience/breaker-ledger';
import type { BreakerState, CircuitBreakerOptions } from '../../resilience/circuit-breaker';

/**
 * A breaker authority in one process's memory: for a single-process gateway (Bun, Deno, Node)
 * and for tests. The same ledger as the Durable Object, without persistence.
 */
export class MemoryBreakerAuthority implements BreakerAuthority {
  private readonly ledger = new BreakerLedger();
  /** Calls received, by method: lets tests see what reached the authority. */
  readonly calls = { current: 0, report: 0, acquireProbe: 0, probeOutcome: 0, cancelProbe: 0 };

  constructor(private readonly now: () => number = Date.now) {}

  get state(): BreakerState {
    return this.ledger.state;
  }

  async current(): Promise<BreakerView> {
    this.calls.current++;
    return this.ledger.view();
  }

  async report(options: CircuitBreakerOptions, outcomes: TimedOutcomes | TimedOutcomes[]): Promise<BreakerView> {
    this.calls.report++;
    return this.ledger.report(options, outcomes, this.now()).view;
  }

  async cancelProbe(options: CircuitBreakerOptions, period: number): Promise<BreakerView> {
    this.calls.cancelProbe++;
    return this.ledger.cancelProbe(options, period, this.now()).view;
  }

  async acquireProbe(options: CircuitBreakerOptions) {
    this.calls.acquireProbe++;
    const { permitted, period, view } = this.ledger.acquireProbe(options, this.now());
    return { permitted, period, view };
  }

  async probeOutcome(options: CircuitBreakerOptions, outcome: CallOutcome & { period: number }): Promise<BreakerView> {
    this.calls.probeOutcome++;
    return this.ledger.probeOutcome(options, outcome, this.now()).view;
  }
}
