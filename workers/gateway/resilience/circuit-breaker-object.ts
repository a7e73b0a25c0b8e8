import { DurableObject } from 'cloudflare:workers';
import { createLogger } from '../../../shared/observability/logger';
import type { BreakerAuthority, BreakerView, CallOutcome, TimedOutcomes } from '../../../shared/resilience/breaker-authority';
import { BreakerLedger, type TransitionKey } from '../../../shared/resilience/breaker-ledger';
import { breakerSnapshot, type BreakerSnapshot, type BreakerState, type CircuitBreakerOptions } from '../../../shared/resilience/circuit-breaker';
import type { GatewayBindings } from '../env';

const log = createLogger({ service: 'gateway', component: 'circuit-breaker' });

/**
 * One upstream's circuit breaker, the source of truth for every gateway isolate (one object per
 * upstream, named after it). A thin shell around the shared ledger: step, persist, log each
 * transition. State changes happen synchronously before the storage write, and a Durable Object
 * runs one call at a time up to its first await, so probe permits are granted strictly: at most
 * `halfOpenMaxCalls` across all isolates.
 */
export class CircuitBreakerObject extends DurableObject<GatewayBindings> implements BreakerAuthority {
  private ledger = new BreakerLedger();

  constructor(ctx: DurableObjectState, env: GatewayBindings) {
    super(ctx, env);
    void ctx.blockConcurrencyWhile(async () => {
      const [state, transitions] = await Promise.all([
        ctx.storage.get<BreakerState>('state'),
        ctx.storage.get<Record<string, number>>('transitions'),
      ]);
      this.ledger = new BreakerLedger(state, transitions);
    });
  }

  private async persist({ happened, changed }: { happened: TransitionKey[]; changed: boolean }): Promise<void> {
    const upstream = this.ctx.id.name ?? this.ctx.id.toString();
    for (const transition of happened) log.info('circuit breaker transition', { upstream, transition });
    // An isolate renewing its closed view changes nothing: no write.
    if (changed) await this.ctx.storage.put({ state: this.ledger.state, transitions: this.ledger.transitions });
  }

  async current(): Promise<BreakerView> {
    return this.ledger.view();
  }

  async report(options: CircuitBreakerOptions, outcomes: TimedOutcomes | TimedOutcomes[]): Promise<BreakerView> {
    const { view, ...applied } = this.ledger.report(options, outcomes, Date.now());
    await this.persist(applied);
    return view;
  }

  async cancelProbe(options: CircuitBreakerOptions, period: number): Promise<BreakerView> {
    const { view, ...applied } = this.ledger.cancelProbe(options, period, Date.now());
    await this.persist(applied);
    return view;
  }

  async acquireProbe(options: CircuitBreakerOptions): Promise<{ permitted: boolean; period?: number; view: BreakerView }> {
    const { permitted, period, view, ...applied } = this.ledger.acquireProbe(options, Date.now());
    await this.persist(applied);
    return { permitted, period, view };
  }

  async probeOutcome(options: CircuitBreakerOptions, outcome: CallOutcome & { period: number }): Promise<BreakerView> {
    const { view, ...applied } = this.ledger.probeOutcome(options, outcome, Date.now());
    await this.persist(applied);
    return view;
  }

  /** Back to closed with no history (for tests, and an operator's manual reset). */
  async reset(): Promise<void> {
    this.ledger = new BreakerLedger();
    await this.ctx.storage.deleteAll();
  }

  /** For /_ops/breakers and /metrics. */
  async snapshot(options: CircuitBreakerOptions): Promise<BreakerSnapshot & { transitions: Record<string, number> }> {
    return { ...breakerSnapshot(this.ledger.state, Date.now(), options), transitions: { ...this.ledger.transitions } };
  }
}
