import type { Context } from 'hono';
import { parseSeriesKey } from '../../../shared/metrics/metric-batch';
import type { AppEnv } from '../../../shared/middleware/app-env';
import type { BreakerStateName } from '../../../shared/resilience/circuit-breaker';
import type { GatewayBindings } from '../env';
import { platformOf } from '../platform';
import { originRoutes } from '../routes';
import { activelyHealthy, type OriginHealthRecord, type OriginHealthSnapshot } from '../traffic/origin-health';
import { originPool } from '../traffic/origin-pool';
import { metricTotals } from './metrics';

export interface OriginView {
  name: string;
  url: string;
  weight: number;
  /** Whether the pool picks it now: its breaker lets calls through and its last check passed (or is unknown). */
  healthy: boolean;
  /** The last scheduled health check, or null before the first. */
  check: OriginHealthRecord | null;
  /** Its breaker as its authority holds it (passive health), or null when the route has none or it is unreadable. */
  breaker: { state: BreakerStateName; failureRate: number | null; calls: number } | null;
  /** Attempts sent to it across every isolate, and their share of the pool's attempts (null before any). */
  requests: number;
  share: number | null;
}

export interface PoolView {
  prefix: string;
  balancer: string;
  hashBy?: string;
  healthPath: string;
  origins: OriginView[];
}

/** Attempts per `route~origin`, summed over outcomes, from the totals of every isolate. */
function attemptsByOrigin(counters: Record<string, number>): Map<string, number> {
  const attempts = new Map<string, number>();
  for (const [key, value] of Object.entries(counters)) {
    if (!key.startsWith('origin_requests_total{')) continue;
    const { labels } = parseSeriesKey(key);
    const id = `${labels.route}~${labels.origin}`;
    attempts.set(id, (attempts.get(id) ?? 0) + value);
  }
  return attempts;
}

/**
 * `GET /_ops/origins`: each pool route, its balancer and its origins with their health (the
 * registry's last check and the breaker's state, and whether that makes them picked) and their
 * share of the pool's traffic (the `origin_requests_total` totals). A registry or a breaker that
 * cannot be read leaves its part null rather than failing the answer.
 */
export async function originPoolsView(c: Context<AppEnv<GatewayBindings>>): Promise<Record<string, PoolView>> {
  const env = c.env;
  const log = c.get('log');
  const [snapshot, totals] = await Promise.all([
    platformOf(env)
      .originHealth.read()
      .catch((error: unknown): OriginHealthSnapshot => (log.warn('origin health unreadable', { error }), {})),
    metricTotals(c),
  ]);
  const attempts = attemptsByOrigin(totals.counters);
  const now = Date.now();
  const entries = await Promise.all(
    originRoutes.map(async (route): Promise<[string, PoolView]> => {
      const pool = originPool(env, route);
      const total = pool.origins.reduce((sum, origin) => sum + (attempts.get(origin.key) ?? 0), 0);
      const breakerOptions = pool.policy.breaker;
      const origins = await Promise.all(
        pool.origins.map(async (origin): Promise<OriginView> => {
          let breaker: OriginView['breaker'] = null;
          if (breakerOptions !== false) {
            try {
              const s = await env.BREAKERS.get(env.BREAKERS.idFromName(origin.key)).snapshot(breakerOptions);
              breaker = { state: s.state, failureRate: s.failureRate, calls: s.calls };
            } catch (error) {
              log.warn('origin breaker unreadable', { origin: origin.key, error });
            }
          }
          const check = snapshot[origin.key] ?? null;
          const requests = attempts.get(origin.key) ?? 0;
          const breakerRefuses = breaker !== null && breaker.state === 'open';
          return {
            name: origin.name,
            url: origin.url,
            weight: origin.weight ?? 1,
            healthy: !breakerRefuses && activelyHealthy(check ?? undefined, now),
            check,
            breaker,
            requests,
            share: total > 0 ? requests / total : null,
          };
        }),
      );
      const view: PoolView = { prefix: route.prefix, balancer: route.pool.balancer, healthPath: route.pool.healthPath ?? '/health', origins };
      if (route.pool.hashBy) view.hashBy = route.pool.hashBy;
      return [route.name, view];
    }),
  );
  return Object.fromEntries(entries);
}
