import { DurableObject } from 'cloudflare:workers';
import { histogramDelta, histogramQuantile } from '../../../shared/metrics/histogram-quantile';
import { parseSeriesKey, type HistogramData, type MetricBatch } from '../../../shared/metrics/metric-batch';
import { createLogger, isLogLevel } from '../../../shared/observability/logger';
import {
  abortRollout,
  judgeRollout,
  startRollout,
  type CanaryWindow,
  type RolloutEffects,
  type RolloutPlan,
  type RolloutState,
} from '../../../shared/routing/canary-rollout';
import type { GatewayBindings } from '../env';

/** The canary's totals when its current step began: the window is what was added since. */
interface WindowStart {
  requests: number;
  errors: number;
  latency?: HistogramData;
}

interface Stored {
  state: RolloutState;
  /** The route's versions in the order declared, so every weight change names them all. */
  versions: string[];
  windowStart: WindowStart;
}

export type StartResult = { kind: 'started'; state: RolloutState } | { kind: 'active'; state: RolloutState };

/**
 * One versioned route's automated canary rollout (docs/api.md `POST /_ops/rollouts/:route`): a
 * thin shell around the pure state machine in shared/routing/canary-rollout.ts. An object per
 * route, because a rollout needs exactly one driver and a durable timer: its alarm wakes it to
 * judge the step in force, it stores every transition before acting on it, and it survives
 * eviction (the alarm and the stored state are all it needs to go on).
 *
 * It moves the route's weights through the same RouteWeights object `PUT /_ops/routes/:name` uses
 * (allow lists untouched), so every gateway isolate follows within ROUTE_WEIGHTS_REFRESH_MS; and
 * it judges the canary from the gateway's own metrics (MetricsStore: route_version_requests_total
 * and route_version_request_duration_seconds for the canary version), the totals every isolate
 * flushes within METRICS_FLUSH_INTERVAL_MS, read against the totals at the step's start.
 *
 * Retention: one rollout per route is kept, the last; a new one replaces it. Its transitions are
 * bounded by its steps (at most 20).
 */
export class CanaryRollout extends DurableObject<GatewayBindings> {
  private log() {
    const level = this.env.LOG_LEVEL;
    return createLogger({ service: 'gateway', component: 'canary-rollout' }, { level: isLogLevel(level) ? level : 'info' });
  }

  /** The rollout (running or the last one ended), or null when this route never had one. */
  async view(): Promise<RolloutState | null> {
    return (await this.ctx.storage.get<Stored>('rollout'))?.state ?? null;
  }

  /** Starts a rollout unless one is running (one per route). */
  async start(input: { route: string; canary: string; stable: string; versions: string[]; plan: RolloutPlan }): Promise<StartResult> {
    const existing = await this.ctx.storage.get<Stored>('rollout');
    if (existing?.state.status === 'running') return { kind: 'active', state: existing.state };
    const { state, effects } = startRollout({ route: input.route, canary: input.canary, stable: input.stable, plan: input.plan }, Date.now());
    await this.apply({ state, versions: input.versions, windowStart: { requests: 0, errors: 0 } }, effects, 0);
    return { kind: 'started', state };
  }

  /** An operator stops the running rollout: the canary goes back to 0. Null when none is running. */
  async abort(note?: string): Promise<RolloutState | null> {
    const stored = await this.ctx.storage.get<Stored>('rollout');
    if (!stored || stored.state.status !== 'running') return null;
    const { state, effects } = abortRollout(stored.state, Date.now(), note);
    await this.apply({ ...stored, state }, effects, stored.state.transitions.length);
    return state;
  }

  /** Wakes to judge the step in force. */
  override async alarm(): Promise<void> {
    const stored = await this.ctx.storage.get<Stored>('rollout');
    if (!stored || stored.state.status !== 'running') return;
    const window = this.windowSince(stored.windowStart, await this.canaryTotals(stored.state));
    const { state, effects } = judgeRollout(stored.state, window, Date.now());
    await this.apply({ ...stored, state }, effects, stored.state.transitions.length);
  }

  /** Drops the stored rollout and its alarm (tests). */
  async clear(): Promise<void> {
    await this.ctx.storage.deleteAlarm();
    await this.ctx.storage.deleteAll();
  }

  /**
   * Performs a transition's effects, the state stored first: the weights, then the new window's
   * totals (read after the weights moved), then the alarm. A failure half-way (the weights object
   * unreachable) throws before the alarm is re-armed; the alarm's own retries run it again, and
   * moving weights to a percent they already have changes nothing.
   */
  private async apply(stored: Stored, effects: RolloutEffects, transitionsBefore: number): Promise<void> {
    const { state } = stored;
    await this.ctx.storage.put('rollout', stored);
    const last = state.transitions.at(-1);
    if (last && state.transitions.length > transitionsBefore) this.log().warn(`canary rollout ${last.event}`, { route: state.route, canary: state.canary, from: last.from, to: last.to, reason: last.reason });
    if (effects.setCanaryPercent !== undefined) await this.setCanaryPercent(state, stored.versions, effects.setCanaryPercent);
    if (effects.newWindow) {
      const windowStart = await this.canaryTotals(state);
      await this.ctx.storage.put('rollout', { ...stored, windowStart });
    }
    if (effects.checkAt !== undefined) await this.ctx.storage.setAlarm(effects.checkAt);
    else await this.ctx.storage.deleteAlarm();
  }

  private async setCanaryPercent(state: RolloutState, versions: string[], percent: number): Promise<void> {
    const weights = Object.fromEntries(versions.map((version) => [version, 0]));
    weights[state.stable] = 100 - percent;
    weights[state.canary] = percent;
    const routeWeights = this.env.ROUTE_WEIGHTS.get(this.env.ROUTE_WEIGHTS.idFromName(state.route));
    await routeWeights.set({ weights });
  }

  /** The canary's totals across every gateway isolate, from the MetricsStore. */
  private async canaryTotals(state: RolloutState): Promise<WindowStart> {
    const totals = (await this.env.METRICS.get(this.env.METRICS.idFromName('global')).snapshot()) as MetricBatch;
    const totalsNow: WindowStart = { requests: 0, errors: 0 };
    for (const [key, count] of Object.entries(totals.counters)) {
      const { name, labels } = parseSeriesKey(key);
      if (name !== 'route_version_requests_total' || labels.route !== state.route || labels.version !== state.canary) continue;
      totalsNow.requests += count;
      if ((labels.status ?? '').startsWith('5')) totalsNow.errors += count;
    }
    for (const [key, histogram] of Object.entries(totals.histograms)) {
      const { name, labels } = parseSeriesKey(key);
      if (name === 'route_version_request_duration_seconds' && labels.route === state.route && labels.version === state.canary) totalsNow.latency = histogram;
    }
    return totalsNow;
  }

  /** What the canary did since the window began (totals that went down were reset: all of now is new). */
  private windowSince(start: WindowStart, now: WindowStart): CanaryWindow {
    const reset = now.requests < start.requests || now.errors < start.errors;
    const requests = reset ? now.requests : now.requests - start.requests;
    const errors = reset ? now.errors : now.errors - start.errors;
    const latency = now.latency ? histogramDelta(now.latency, reset ? undefined : start.latency) : undefined;
    const p99 = latency ? histogramQuantile(0.99, latency) : null;
    return { requests, errors, p99Ms: p99 === null ? null : p99 * 1000 };
  }
}
