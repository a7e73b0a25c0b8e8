import type { BreakerSnapshot } from '../../../shared/resilience/circuit-breaker';
import type { GatewayBindings } from '../env';
import { routeUpstreams } from '../traffic/route-versions';
import { routes } from '../routes';
import { upstreamGuard } from './upstream-guard';

export type UpstreamBreaker = BreakerSnapshot & { transitions: Record<string, number> };

/**
 * Every upstream's breaker as its Durable Object (the source of truth) sees it now, read in
 * parallel, judged with the options the route runs with. An object that cannot be read is left
 * out rather than failing the whole answer; the log says which. Routes without a breaker too.
 */
export async function breakerSnapshots(env: GatewayBindings, onError: (upstream: string, error: unknown) => void): Promise<Record<string, UpstreamBreaker>> {
  // A versioned route has a breaker per upstream: `catalog`, and `catalog@v2` for its canary.
  const upstreams = routes.flatMap((route) => routeUpstreams(route).map((upstream) => ({ route, upstream })));
  const entries = await Promise.all(
    upstreams.map(async ({ route, upstream }) => {
      const { breaker } = upstreamGuard(env, route, upstream.version).policy;
      if (breaker === false) return null;
      try {
        const snapshot = await env.BREAKERS.get(env.BREAKERS.idFromName(upstream.name)).snapshot(breaker);
        return [upstream.name, snapshot] as const;
      } catch (error) {
        onError(upstream.name, error);
        return null;
      }
    }),
  );
  return Object.fromEntries(entries.filter((entry) => entry !== null));
}

/** The `circuit_breaker_state` gauge's value (docs/api.md): 0 closed, 1 half-open, 2 open. */
export const BREAKER_STATE_VALUE = { closed: 0, 'half-open': 1, open: 2 } as const;
