import type { BreakerView, CallOutcome, TimedOutcomes } from './breaker-authority';
import { breakerStep, closedBreaker, type BreakerInput, type BreakerState, type BreakerStep, type CircuitBreakerOptions } from './circuit-breaker';

type OutcomesInput = Extract<BreakerInput, { type: 'outcomes' }>;

/** A transition as logged and counted: `closed->open`, `open->half-open`, ... */
export type TransitionKey = `${string}->${string}`;

/**
 * The authority's side of one breaker, in memory: the state, how often each transition
 * happened, and the three operations isolates call, each mapped onto `breakerStep`. The Durable
 * Object and the in-memory authority are both this plus what their platform adds (persistence,
 * logs), so the mapping exists once.
 */
export class BreakerLedger {
  constructor(
    public state: BreakerState = closedBreaker(),
    public transitions: Record<string, number> = {},
  ) {}

  /**
   * Applies inputs in order; returns the last step, the transitions they caused, and whether the
   * state changed at all (a closed breaker asked for a permit does not change: nothing to store).
   */
  private apply(inputs: BreakerInput[], options: CircuitBreakerOptions, now: number) {
    let last: BreakerStep | undefined;
    let changed = false;
    const happened: TransitionKey[] = [];
    for (const input of inputs) {
      last = breakerStep(this.state, input, now, options);
      if (last.state !== this.state) changed = true;
      this.state = last.state;
      if (last.transition) {
        const key: TransitionKey = `${last.transition.from}->${last.transition.to}`;
        this.transitions[key] = (this.transitions[key] ?? 0) + 1;
        happened.push(key);
      }
    }
    return { last, happened, changed };
  }

  view(): BreakerView {
    return this.state.kind === 'closed' ? { state: 'closed' } : { state: this.state.kind, openedAt: this.state.openedAt };
  }

  /** Outcomes applied oldest first, each at the time it ended (`now` less its age). */
  report(options: CircuitBreakerOptions, outcomes: TimedOutcomes | TimedOutcomes[], now: number) {
    const inputs = (Array.isArray(outcomes) ? outcomes : [outcomes])
      .map((batch): OutcomesInput => {
        const at = now - Math.max(0, batch.ageMs ?? 0);
        const failedAt = batch.failedAgeMs === undefined ? undefined : now - Math.max(0, batch.failedAgeMs);
        return { type: 'outcomes', calls: batch.calls, failures: batch.failures, slow: batch.slow, at, ...(failedAt === undefined ? {} : { failedAt }) };
      })
      .sort((a, b) => a.at - b.at);
    const applied = this.apply(inputs, options, now);
    return { ...applied, view: this.view() };
  }

  acquireProbe(options: CircuitBreakerOptions, now: number) {
    const { last, happened, changed } = this.apply([{ type: 'acquire' }], options, now);
    const permitted = last?.permitted === true;
    return { permitted, period: last?.probe ? last.period : undefined, view: this.view(), happened, changed };
  }

  cancelProbe(options: CircuitBreakerOptions, period: number, now: number) {
    const applied = this.apply([{ type: 'cancel', probe: true, period }], options, now);
    return { ...applied, view: this.view() };
  }

  probeOutcome(options: CircuitBreakerOptions, outcome: CallOutcome & { period: number }, now: number) {
    const input: BreakerInput = { type: 'outcome', failed: outcome.failed, durationMs: outcome.durationMs, probe: true, period: outcome.period };
    const applied = this.apply([input], options, now);
    return { ...applied, view: this.view() };
  }
}
