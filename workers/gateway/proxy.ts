import type { Context } from 'hono';
import type { Identity } from '../../shared/http/identity';
import { FORWARDED_PREFIX_HEADERS } from '../../shared/http/public-path';
import { badGateway, badRequest, gatewayTimeout, HttpError, isHttpError, notFound } from '../../shared/http/problem';
import type { AppEnv } from '../../shared/middleware/app-env';
import { CHAOS_PATH } from '../../shared/middleware/chaos';
import { SERVICE_TOKEN_HEADER } from '../../shared/security/service-token';
import { HEALTH_PATHS } from '../../shared/middleware/service-app';
import { withPropagation } from '../../shared/observability/propagation';
import { isBrokenCircuitError } from '../../shared/resilience/breaker-policy';
import { isBulkheadRejectedError } from '../../shared/resilience/bulkhead';
import { isRetryableRequest } from '../../shared/resilience/retry';
import { isTimeoutError } from '../../shared/resilience/timeout';
import type { GatewayBindings } from './env';
import { FALLBACK_HEADER, FALLBACK_REASON_HEADER } from './resilience/fallback-rules';
import { chooseUpstream } from './traffic/route-versions';
import { platformOf } from './platform';
import { forwardedPrefixHeaders, isHiddenPath, rewritePath, serviceName, type Route } from './routes';
import { serviceTokenHeader } from './auth/service-tokens';
import { upstreamGuard } from './resilience/upstream-guard';
import { identifiesCaller } from './traffic/visitor-cookie';

/** Hop-by-hop headers (RFC 9110 §7.6.1) describe one connection and are never forwarded. */
const HOP_BY_HOP = ['connection', 'keep-alive', 'proxy-authenticate', 'proxy-authorization', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade'];

/**
 * A service's operational endpoints are for the gateway itself (its /ready, its chaos switch),
 * not for the public: their answers name internal dependencies and errors.
 */
const INTERNAL_UPSTREAM_PATHS = new Set<string>([...Object.values(HEALTH_PATHS), CHAOS_PATH]);

/** Headers only the gateway may set; a client sending them is ignored, never trusted. */
const GATEWAY_ONLY = [SERVICE_TOKEN_HEADER, ...Object.values(FORWARDED_PREFIX_HEADERS)];

/**
 * Whether a path names one of a service's internal endpoints, judged as the service will see it:
 * percent-decoded (`/r%65ady` is `/ready` to the service's router).
 */
function isInternalPath(upstreamPath: string): boolean {
  let decoded: string;
  try {
    decoded = decodeURIComponent(upstreamPath);
  } catch {
    throw badRequest('The request path is not valid percent-encoding.');
  }
  return INTERNAL_UPSTREAM_PATHS.has(decoded.replace(/\/+$/, '') || '/');
}

async function upstreamHeaders(c: Context<AppEnv<GatewayBindings>>, route: Route, identity: Identity | null): Promise<Headers> {
  const headers = new Headers(c.req.raw.headers);
  // The caller's credentials stay at the edge: services learn who called from the service token
  // the gateway signs for this call, never from a token they could replay elsewhere.
  for (const name of [...HOP_BY_HOP, ...GATEWAY_ONLY, 'host', 'authorization', 'cookie']) headers.delete(name);
  withPropagation(headers, c.get('requestId'), c.get('trace'));
  // Lets a service build links that work from outside (`/api/catalog/products/...`).
  for (const [name, value] of Object.entries(forwardedPrefixHeaders(route))) headers.set(name, value);
  const token = await serviceTokenHeader(c.env, { service: serviceName(route), identity, requestId: c.get('requestId') });
  for (const [name, value] of Object.entries(token)) headers.set(name, value);
  return headers;
}

/** Work that may outlive the response (breaker reports, fallback copies) goes to `waitUntil`. */
function deferTo(c: Context<AppEnv<GatewayBindings>>) {
  return (work: Promise<unknown>) => {
    const guarded = work.catch((error: unknown) => c.get('log').warn('background work failed', { error }));
    try {
      c.executionCtx.waitUntil(guarded);
    } catch {
      // No execution context (a unit test calling the app directly): the promise still runs.
    }
  };
}

/** A failure of the guarded call, as the problem the caller gets when no fallback answered. */
function upstreamProblem(c: Context<AppEnv<GatewayBindings>>, route: Route, error: unknown, timeoutMs: number): HttpError {
  if (isHttpError(error)) return error;
  const log = c.get('log');
  if (isBrokenCircuitError(error)) {
    const seconds = Math.max(1, Math.ceil(error.retryAfterMs / 1000));
    return new HttpError(503, {
      type: 'circuit-open',
      detail: `The ${serviceName(route)} service is failing; the gateway is not calling it for now (circuit open). Try again in ${seconds} s.`,
      headers: { 'retry-after': String(seconds) },
    });
  }
  if (isBulkheadRejectedError(error)) {
    log.warn('upstream bulkhead full', { upstream: route.name });
    return new HttpError(503, {
      type: 'bulkhead-full',
      detail: `Too many calls to the ${serviceName(route)} service are already in progress; refused at once.`,
      headers: { 'retry-after': '1' },
    });
  }
  if (isTimeoutError(error)) {
    log.warn('upstream timed out', { upstream: route.name, timeoutMs });
    return gatewayTimeout(`The ${serviceName(route)} service did not answer within ${timeoutMs} ms.`);
  }
  log.warn('upstream unreachable', { upstream: route.name, error });
  return badGateway(`The ${serviceName(route)} service could not be reached.`, error);
}

/**
 * Forwards the request to the route's service (its binding, or HTTP off Cloudflare: platform.ts) with the prefix rewritten, the request id
 * and trace propagated, under the route's resilience policies (resilience/upstream-guard.ts). The body is
 * streamed through, except when the request may be retried: then it is read once (it is within
 * the body limit) so every attempt can send it.
 */
export async function forwardToService(
  c: Context<AppEnv<GatewayBindings>>,
  route: Route,
  identity: Identity | null,
): Promise<Response> {
  const incoming = new URL(c.req.url);
  const upstreamPath = rewritePath(route, incoming.pathname);
  if (isInternalPath(upstreamPath) || isHiddenPath(route, upstreamPath)) throw notFound(`No route for ${c.req.method} ${c.req.path}.`);
  // Path set through the URL's pathname, never by parsing a string: `//host/x` must stay a path,
  // not become a host. The host is never resolved: a binding delivers to its worker regardless
  // (and an HTTP transport, runtimes/, puts its own origin in its place).
  const target = new URL(`https://${route.name}.internal`);
  target.pathname = upstreamPath;
  target.search = incoming.search;
  const method = c.req.method;
  const headers = await upstreamHeaders(c, route, identity);
  // Canary / blue-green: the version chosen for this caller serves the call, under its own breaker.
  const upstream = await chooseUpstream(c, route, identity);
  const guard = upstreamGuard(c.env, route, upstream.version);
  const service = platformOf(c.env).service(upstream.service);
  // A key only makes a write repeatable where the service dedupes by it (routes.ts `idempotencyKeys`).
  const keysHonoured = route.policy.idempotencyKeys !== false;
  const repeatable = guard.policy.retry !== false && isRetryableRequest(method, keysHonoured ? c.req.raw.headers : new Headers());
  const hasBody = method !== 'GET' && method !== 'HEAD' && c.req.raw.body !== null;
  const body = hasBody && repeatable ? await c.req.raw.arrayBuffer() : hasBody ? c.req.raw.body : null;
  // The visitor cookie alone identifies no one (traffic/visitor-cookie.ts).
  const fallbackRequest = { method, upstreamPath, search: incoming.search, identified: identifiesCaller(c.req.raw) };
  const defer = deferTo(c);

  let response: Response;
  try {
    // The deadline covers the wait for the response head (fetch resolves then); the body streams on
    // its own time, so a large but steady download is not cut off.
    response = await guard.execute(
      ({ signal }) => service.fetch(new Request(target, { method, headers, body, redirect: 'manual', signal })),
      { repeatable, defer, request: fallbackRequest },
    );
  } catch (error) {
    throw upstreamProblem(c, route, error, guard.policy.timeoutMs);
  }
  if (response.headers.has(FALLBACK_HEADER)) {
    c.get('log').warn('answered by fallback', { upstream: route.name, fallback: response.headers.get(FALLBACK_HEADER), reason: response.headers.get(FALLBACK_REASON_HEADER) });
  } else if (response.ok) {
    const work = guard.fallbacks.remember(fallbackRequest, response);
    if (work) defer(work);
  }

  // A fresh Response: the upstream's headers are immutable, and ours are added later.
  const responseHeaders = new Headers(response.headers);
  for (const name of HOP_BY_HOP) responseHeaders.delete(name);
  return new Response(response.body, { status: response.status, statusText: response.statusText, headers: responseHeaders });
}
