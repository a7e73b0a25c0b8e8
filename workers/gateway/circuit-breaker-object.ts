import { DurableObject } from 'cloudflare:workers';
import { createLogger } from '../../shared/observability/logger';
import type { BreakerAuthority, BreakerView, CallOutcome } from '../../shared/resilience/breaker-authority';
import {
  breakerSnapshot,
  breakerStep,
  closedBreaker,
  type BreakerInput,
  type BreakerSnapshot,
  type BreakerState,
  type CircuitBreakerOptions,
} from '../../shared/resilience/circuit-breaker';
import type { GatewayBindings } from './env';

const log = createLogger({ service: 'gateway', component: 'circuit-breaker' });

const viewOf = (state: BreakerState): BreakerView =>
  state.kind === 'closed' ? { state: 'closed' } : { state: state.kind, openedAt: state.openedAt };

/**
 * One upstream's circuit breaker, the source of truth for every gateway isolate (one object per
 * upstream, named after it). A thin shell around the pure `breakerStep`: load, step, persist,
 * log the transition. Durable Objects run one request at a time between awaits, so probe permits
 * are granted strictly: at most `halfOpenMaxCalls` across all isolates.
 */
export class CircuitBreakerObject extends DurableObject<GatewayBindings> implements BreakerAuthority {
  private state: BreakerState = closedBreaker();
  private transitions: Record<string, number> = {};

  constructor(ctx: DurableObjectState, env: GatewayBindings) {
    super(ctx, env);
    void ctx.blockConcurrencyWhile(async () => {
      this.state = (await ctx.storage.get<BreakerState>('state')) ?? closedBreaker();
      this.transitions = (await ctx.storage.get<Record<string, number>>('transitions')) ?? {};
    });
  }

  private async apply(inputs: BreakerInput[], options: CircuitBreakerOptions) {
    const now = Date.now();
    let last;
    for (const input of inputs) {
      last = breakerStep(this.state, input, now, options);
      this.state = last.state;
      if (last.transition) {
        const key = `${last.transition.from}->${last.transition.to}`;
        this.transitions[key] = (this.transitions[key] ?? 0) + 1;
        log.info('circuit breaker transition', { upstream: this.ctx.id.name ?? this.ctx.id.toString(), from: last.transition.from, to: last.transition.to });
      }
    }
    await this.ctx.storage.put({ state: this.state, transitions: this.transitions });
    return last;
  }

  async report(options: CircuitBreakerOptions, outcomes: CallOutcome[]): Promise<BreakerView> {
    await this.apply(outcomes.map((o) => ({ type: 'outcome', failed: o.failed, durationMs: o.durationMs, probe: false }) as const), options);
    return viewOf(this.state);
  }

  async acquireProbe(options: CircuitBreakerOptions): Promise<{ permitted: boolean; period?: number; view: BreakerView }> {
    const step = await this.apply([{ type: 'acquire' }], options);
    return { permitted: step?.permitted === true, period: step?.probe ? step.period : undefined, view: viewOf(this.state) };
  }

  async probeOutcome(options: CircuitBreakerOptions, outcome: CallOutcome & { period: number }): Promise<BreakerView> {
    await this.apply([{ type: 'outcome', failed: outcome.failed, durationMs: outcome.durationMs, probe: true, period: outcome.period }], options);
    return viewOf(this.state);
  }

  /** For /_ops/breakers and /metrics. */
  async snapshot(options: CircuitBreakerOptions): Promise<BreakerSnapshot & { transitions: Record<string, number> }> {
    return { ...breakerSnapshot(this.state, Date.now(), options), transitions: { ...this.transitions } };
  }
}
