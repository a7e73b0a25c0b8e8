import type { BreakerAuthority, BreakerView, CallOutcome } from '../../resilience/breaker-authority';
import { breakerStep, closedBreaker, type BreakerInput, type BreakerState, type CircuitBreakerOptions } from '../../resilience/circuit-breaker';

/**
 * A breaker authority in one process's memory: for a single-process gateway (Bun, Deno, Node)
 * and for tests. Same core as the Durable Object, without persistence.
 */
export class MemoryBreakerAuthority implements BreakerAuthority {
  state: BreakerState = closedBreaker();
  /** Calls received, by method: lets tests see what reached the authority. */
  readonly calls = { report: 0, acquireProbe: 0, probeOutcome: 0 };

  constructor(private readonly now: () => number = Date.now) {}

  private apply(input: BreakerInput, options: CircuitBreakerOptions) {
    const step = breakerStep(this.state, input, this.now(), options);
    this.state = step.state;
    return step;
  }

  private view(): BreakerView {
    return this.state.kind === 'closed' ? { state: 'closed' } : { state: this.state.kind, openedAt: this.state.openedAt };
  }

  async report(options: CircuitBreakerOptions, outcomes: CallOutcome[]): Promise<BreakerView> {
    this.calls.report++;
    for (const o of outcomes) this.apply({ type: 'outcome', failed: o.failed, durationMs: o.durationMs, probe: false }, options);
    return this.view();
  }

  async acquireProbe(options: CircuitBreakerOptions) {
    this.calls.acquireProbe++;
    const step = this.apply({ type: 'acquire' }, options);
    return { permitted: step.permitted === true, period: step.probe ? step.period : undefined, view: this.view() };
  }

  async probeOutcome(options: CircuitBreakerOptions, outcome: CallOutcome & { period: number }): Promise<BreakerView> {
    this.calls.probeOutcome++;
    this.apply({ type: 'outcome', failed: outcome.failed, durationMs: outcome.durationMs, probe: true, period: outcome.period }, options);
    return this.view();
  }
}
