import type { Context } from 'hono';
import { getCookie } from 'hono/cookie';
import type { Identity } from '../../../shared/http/identity';
import { badGateway, gatewayTimeout, HttpError, isHttpError, notFound } from '../../../shared/http/problem';
import type { AppEnv } from '../../../shared/middleware/app-env';
import { tracedCall } from '../../../shared/observability/client-span';
import { withPropagation } from '../../../shared/observability/propagation';
import { isBrokenCircuitError } from '../../../shared/resilience/breaker-policy';
import { isBulkheadRejectedError } from '../../../shared/resilience/bulkhead';
import type { CallContext } from '../../../shared/resilience/policy';
import { isRetryableRequest } from '../../../shared/resilience/retry';
import { isTimeoutError } from '../../../shared/resilience/timeout';
import type { GatewayBindings } from '../env';
import { recordOriginAttempt } from '../ops/metrics';
import { platformOf } from '../platform';
import { deferTo, GATEWAY_ONLY, HOP_BY_HOP, isInternalPath } from '../proxy';
import { forwardedPrefixHeaders, isHiddenPath, rewritePath, type OriginRoute } from '../routes';
import { originPool, type OriginPool, type PoolOrigin } from './origin-pool';
import { originUrl } from './origin-url';
import { SERVED_BY_HEADER, stickyKey } from './route-versions';

type Ctx = Context<AppEnv<GatewayBindings>>;

/** What a client wrote about the original request: replaced by the gateway's own account of it. */
const CLIENT_FORWARDING = /^(x-forwarded-|forwarded$|x-real-ip$)/;
const DROPPED = new Set([...HOP_BY_HOP, ...GATEWAY_ONLY, 'host']);

/**
 * The request headers an origin gets: the caller's, less hop-by-hop headers, the gateway's own and
 * forwarding claims the client made; with the request id and trace context propagated, the
 * route's `x-forwarded-prefix`, and `x-forwarded-for/-host/-proto` as the gateway saw the request.
 * Authorization and cookies go as they came (routes.ts `OriginRoute`), and no service token.
 */
function originHeaders(c: Ctx, route: OriginRoute): Headers {
  const headers = new Headers();
  for (const [name, value] of c.req.raw.headers) if (!DROPPED.has(name) && !CLIENT_FORWARDING.test(name)) headers.append(name, value);
  withPropagation(headers, c.get('requestId'), c.get('trace'));
  for (const [name, value] of Object.entries(forwardedPrefixHeaders(route))) headers.set(name, value);
  const url = new URL(c.req.url);
  const client = c.req.header('cf-connecting-ip');
  if (client) headers.set('x-forwarded-for', client);
  headers.set('x-forwarded-host', url.host);
  headers.set('x-forwarded-proto', url.protocol.replace(/:$/, ''));
  return headers;
}

/** What the hashing balancers hash for this request (routes.ts `hashBy`). */
function hashKey(c: Ctx, route: OriginRoute, identity: Identity | null): string {
  const address = c.req.header('cf-connecting-ip') ?? 'unknown';
  switch (route.pool.hashBy ?? 'user') {
    case 'ip':
      return address;
    case 'cookie':
      return getCookie(c, route.pool.hashCookie ?? 'session') ?? address;
    case 'user':
      // The signed-in user, else the visitor cookie (minted and set on the answer when missing).
      return stickyKey(c, identity);
  }
}

/** When no origin of the pool is healthy: a clear 503, and when to come back (the shortest breaker wait, at least 1 s). */
function noHealthyOrigin(pool: OriginPool): HttpError {
  const waits = pool.origins.map((origin) => origin.breaker?.retryAfterMs() ?? 0).filter((ms) => ms > 0);
  const seconds = Math.max(1, Math.ceil(Math.min(...waits, 10_000) / 1000));
  return new HttpError(503, {
    type: 'no-healthy-origin',
    detail: `Every origin of the ${pool.route.name} pool is unhealthy (${pool.origins.map((o) => o.name).join(', ')}: breaker open or health check failing); try again in ${seconds} s.`,
    headers: { 'retry-after': String(seconds) },
  });
}

/** A failure of the pool's call, as the problem the caller gets. */
function poolProblem(c: Ctx, pool: OriginPool, error: unknown): HttpError {
  if (isHttpError(error)) return error;
  const name = pool.route.name;
  if (isBrokenCircuitError(error)) return noHealthyOrigin(pool);
  if (isBulkheadRejectedError(error)) {
    return new HttpError(503, { type: 'bulkhead-full', detail: `Too many calls to the ${name} origins are already in progress; refused at once. Try again in 1 s.`, headers: { 'retry-after': '1' } });
  }
  if (isTimeoutError(error)) return gatewayTimeout(`The ${name} origins did not answer within ${pool.policy.timeoutMs} ms.`);
  c.get('log').warn('origin unreachable', { upstream: name, error });
  return badGateway(`The ${name} origins could not be reached.`, error);
}

/**
 * Forwards a request to one origin of the route's pool (origin-pool.ts), under the route's
 * timeout, retry and bulkhead and the chosen origin's breaker, with the same header hygiene and
 * request id / trace propagation as a call to a service (proxy.ts). A request that may be sent
 * again is read once (it is within the body limit) so each attempt, on whichever origin, sends it.
 * Every attempt is counted per origin (`origin_requests_total`), the share /_ops/origins shows.
 */
export async function forwardToPool(c: Ctx, route: OriginRoute, identity: Identity | null): Promise<Response> {
  const pool = originPool(c.env, route);
  const incoming = new URL(c.req.url);
  const upstreamPath = rewritePath(route, incoming.pathname);
  if (pool.origins.length === 0) throw notFound(`No route for ${c.req.method} ${c.req.path}.`);
  if (isInternalPath(upstreamPath) || isHiddenPath(route, upstreamPath)) throw notFound(`No route for ${c.req.method} ${c.req.path}.`);
  const log = c.get('log');
  const snapshot = await pool.health.current((problem, error) => log.warn(problem, { route: route.name, error }));
  const key = pool.hashing ? hashKey(c, route, identity) : undefined;
  const method = c.req.method;
  const headers = originHeaders(c, route);
  const repeatable = pool.policy.retry !== false && isRetryableRequest(method, c.req.raw.headers);
  const hasBody = method !== 'GET' && method !== 'HEAD' && c.req.raw.body !== null;
  const body = hasBody && repeatable ? await c.req.raw.arrayBuffer() : hasBody ? c.req.raw.body : null;
  const defer = deferTo(c);
  const counts = platformOf(c.env).name === 'cloudflare';
  const tried = new Set<string>();
  const { tracer } = c.get('telemetry');
  let answeredBy: PoolOrigin | undefined;

  const attempt = async (ctx: CallContext): Promise<Response> => {
    const choice = pool.pick(key, snapshot, tried);
    if (!choice) throw noHealthyOrigin(pool);
    const { origin } = choice;
    tried.add(origin.name);
    // Each attempt a span under the request's, named by the origin it went to.
    const send = ({ signal }: CallContext) =>
      tracedCall(
        tracer,
        c.get('trace'),
        headers,
        () => ({ name: `${method} ${origin.name}`, attributes: { 'http.request.method': method, 'url.path': upstreamPath, 'upstream.service': route.name, 'upstream.origin': origin.name, 'retry.attempt': tried.size } }),
        () => fetch(new Request(originUrl(origin.url, upstreamPath, incoming.search), { method, headers, body, redirect: 'manual', signal })),
      );
    try {
      const response = origin.guarded ? await origin.guarded.execute(send, ctx) : await send(ctx);
      if (counts) recordOriginAttempt(c, route.name, origin.name, String(response.status));
      answeredBy = origin;
      return response;
    } catch (error) {
      // A refusal by its own breaker never reached the origin: not an attempt on it.
      if (counts && !isBrokenCircuitError(error)) recordOriginAttempt(c, route.name, origin.name, 'error');
      throw error;
    } finally {
      choice.finish();
    }
  };

  let response: Response;
  try {
    response = await pool.policies(repeatable).execute(attempt, { defer });
  } catch (error) {
    throw poolProblem(c, pool, error);
  }
  const responseHeaders = new Headers(response.headers);
  for (const name of HOP_BY_HOP) responseHeaders.delete(name);
  // The origin's own name for itself wins (the monolith says `legacy`); else the pool's name for it.
  if (answeredBy && !responseHeaders.has(SERVED_BY_HEADER)) responseHeaders.set(SERVED_BY_HEADER, answeredBy.name);
  return new Response(response.body, { status: response.status, statusText: response.statusText, headers: responseHeaders });
}
