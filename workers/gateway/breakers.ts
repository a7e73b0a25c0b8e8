import type { BreakerSnapshot } from '../../shared/resilience/circuit-breaker';
import type { GatewayBindings } from './env';
import { routes } from './routes';
import { upstreamGuard } from './upstream-guard';

export type UpstreamBreaker = BreakerSnapshot & { transitions: Record<string, number> };

/**
 * Every upstream's breaker as its Durable Object (the source of truth) sees it now, read in
 * parallel, judged with the options the route runs with. An object that cannot be read is left
 * out rather than failing the whole answer; the log says which. Routes without a breaker too.
 */
export async function breakerSnapshots(env: GatewayBindings, onError: (upstream: string, error: unknown) => void): Promise<Record<string, UpstreamBreaker>> {
  const entries = await Promise.all(
    routes.map(async (route) => {
      const { breaker } = upstreamGuard(env, route).policy;
      if (breaker === false) return null;
      try {
        const snapshot = await env.BREAKERS.get(env.BREAKERS.idFromName(route.name)).snapshot(breaker);
        return [route.name, snapshot] as const;
      } catch (error) {
        onError(route.name, error);
        return null;
      }
    }),
  );
  return Object.fromEntries(entries.filter((entry) => entry !== null));
}

/** The `circuit_breaker_state` gauge's value (API.md): 0 closed, 1 half-open, 2 open. */
export const BREAKER_STATE_VALUE = { closed: 0, 'half-open': 1, open: 2 } as const;
