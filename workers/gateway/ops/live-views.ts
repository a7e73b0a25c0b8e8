import type { GatewayBindings } from '../env';
import { serviceTokenHeader } from '../auth/service-tokens';
import { platformOf } from '../platform';
import { breakerSnapshots } from '../resilience/breakers';

const iso = (ms: number | undefined) => (ms === undefined ? undefined : new Date(ms).toISOString());

/**
 * Each upstream's breaker as `GET /_ops/breakers` answers it, for that route and for the
 * dashboard's socket (ops-live-object.ts): `{<upstream>: {state, failureRate, calls, openedAt?, nextProbeAt?, transitions}}`.
 */
export async function breakersView(env: GatewayBindings, onError: (upstream: string, error: unknown) => void) {
  const snapshots = await breakerSnapshots(env, onError);
  return Object.fromEntries(
    Object.entries(snapshots).map(([upstream, s]) => [
      upstream,
      { state: s.state, failureRate: s.failureRate, calls: s.calls, openedAt: iso(s.openedAt), nextProbeAt: iso(s.nextProbeAt), transitions: s.transitions },
    ]),
  );
}

/**
 * The latest sagas as `GET /_ops/sagas?limit=` answers them (the orders service's view), read
 * with the gateway's ops-scope service token, outside any request (the dashboard's socket).
 */
export async function recentSagas(env: GatewayBindings, limit: number, timeoutMs: number): Promise<unknown> {
  const headers = new Headers(await serviceTokenHeader(env, { service: 'orders', identity: null, scope: 'ops' }));
  const response = await platformOf(env).service('ORDERS').fetch(new Request(`https://orders.internal/sagas?limit=${limit}`, { headers, signal: AbortSignal.timeout(timeoutMs) }));
  if (!response.ok) throw new Error(`the orders service answered ${response.status}`);
  return response.json();
}
