import type { Context } from 'hono';
import type { Identity } from '../../../shared/http/identity';
import type { AppEnv } from '../../../shared/middleware/app-env';
import { tracedCall } from '../../../shared/observability/client-span';
import { withPropagation } from '../../../shared/observability/propagation';
import { timeout } from '../../../shared/resilience/timeout';
import type { GatewayBindings } from '../env';
import { platformOf } from '../platform';
import { FALLBACK_HEADER } from '../resilience/fallback-rules';
import { forwardedPrefixHeaders, routes, serviceName } from '../routes';
import { currentFlags, flagSubject } from '../traffic/live-flags';
import { serviceTokenHeader } from '../auth/service-tokens';
import { upstreamGuard } from '../resilience/upstream-guard';

/** One part of a composed answer: its data, or why it is missing (the rest is still answered). */
export type Part<T> = { status: 'ok'; data: T; degraded?: true } | { status: 'unavailable'; reason: string };

/**
 * GETs `path` from the service behind the named route, as the caller, under that route's own
 * resilience (breaker, bulkhead, fallbacks) plus this part's deadline, and reads JSON. Never
 * throws: a failure is a part marked unavailable, so one slow or broken service costs its own
 * part only (graceful degradation).
 */
export async function fetchPart<T>(
  c: Context<AppEnv<GatewayBindings>>,
  call: { route: string; path: string; identity: Identity | null; timeoutMs: number },
): Promise<Part<T>> {
  const route = routes.find((r) => r.name === call.route);
  if (!route) return { status: 'unavailable', reason: `no route ${call.route}` };
  const headers = withPropagation(new Headers(), c.get('requestId'), c.get('trace'));
  for (const [name, value] of Object.entries(forwardedPrefixHeaders(route))) headers.set(name, value);
  // The caller's flags, as on every call the gateway makes for them (proxy.ts).
  const flags = (await currentFlags(c)).onFor(flagSubject(c, call.identity));
  const token = await serviceTokenHeader(c.env, { service: serviceName(route), identity: call.identity, flags });
  for (const [name, value] of Object.entries(token)) headers.set(name, value);
  const url = new URL(call.path, `https://${serviceName(route)}.internal`);
  const guard = upstreamGuard(c.env, route);
  const { tracer } = c.get('telemetry');
  let attempts = 0;
  const defer = (work: Promise<unknown>) => {
    try {
      c.executionCtx.waitUntil(work.catch(() => undefined));
    } catch {
      void work.catch(() => undefined);
    }
  };
  try {
    // The deadline covers the body too: a part whose answer stalls half-way is as late as one
    // that never answers.
    return await timeout(call.timeoutMs).execute(async ({ signal }): Promise<Part<T>> => {
      const response = await guard.execute(
        // Each attempt a span under the screen's request, as the proxy's attempts are.
        ({ signal: attemptSignal }) =>
          tracedCall(
            tracer,
            c.get('trace'),
            headers,
            () => ({
              name: `GET ${route.name}`,
              attributes: { 'http.request.method': 'GET', 'url.path': url.pathname, 'upstream.service': route.name, 'retry.attempt': ++attempts },
            }),
            () => platformOf(c.env).service(route.service).fetch(new Request(url, { headers, signal: AbortSignal.any([signal, attemptSignal]) })),
          ),
        {
          repeatable: true,
          defer,
          request: { method: 'GET', upstreamPath: url.pathname, search: url.search, identified: call.identity !== null },
        },
      );
      if (!response.ok) {
        await response.body?.cancel();
        return { status: 'unavailable', reason: `${serviceName(route)} answered ${response.status}` };
      }
      const data = (await response.json()) as T;
      return response.headers.has(FALLBACK_HEADER) ? { status: 'ok', data, degraded: true } : { status: 'ok', data };
    });
  } catch (error) {
    const reason = (error as { isTimeoutError?: boolean }).isTimeoutError ? `no answer within ${call.timeoutMs} ms` : `${serviceName(route)} unavailable`;
    c.get('log').warn('bff part unavailable', { route: route.name, path: call.path, reason });
    return { status: 'unavailable', reason };
  }
}
