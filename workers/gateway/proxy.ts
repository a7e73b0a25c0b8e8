import type { Context } from 'hono';
import type { Identity } from '../../shared/http/identity';
import { FORWARDED_PREFIX_HEADERS } from '../../shared/http/public-path';
import { badGateway, badRequest, gatewayTimeout, HttpError, isHttpError, notFound } from '../../shared/http/problem';
import type { AppEnv } from '../../shared/middleware/app-env';
import { CHAOS_PATH } from '../../shared/middleware/chaos';
import { SERVICE_TOKEN_HEADER } from '../../shared/security/service-token';
import { HEALTH_PATHS } from '../../shared/middleware/service-app';
import { withPropagation } from '../../shared/observability/propagation';
import { tracedCall } from '../../shared/observability/client-span';
import { isBrokenCircuitError } from '../../shared/resilience/breaker-policy';
import { isBulkheadRejectedError } from '../../shared/resilience/bulkhead';
import { isRetryableRequest } from '../../shared/resilience/retry';
import { isTimeoutError } from '../../shared/resilience/timeout';
import type { GatewayBindings } from './env';
import { FALLBACK_HEADER, FALLBACK_REASON_HEADER } from './resilience/fallback-rules';
import { qstashRetryAfterSeconds } from './resilience/qstash-retry-after';
import { routePipeline, type RoutePipeline } from './route-pipeline';
import { isHiddenPath, rewritePath, serviceName, type Route } from './routes';
import { currentFlags, flagSubject } from './traffic/live-flags';
import { chooseVersion, PIN_HEADER } from './traffic/route-versions';
import { identifiesCaller } from './traffic/visitor-cookie';
import { isAllowedUpgrade, upgradedResponse } from './traffic/websocket-upgrade';

/** Hop-by-hop headers (RFC 9110 §7.6.1) describe one connection and are never forwarded. */
export const HOP_BY_HOP = ['connection', 'keep-alive', 'proxy-authenticate', 'proxy-authorization', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade'];

/**
 * A service's operational endpoints are for the gateway itself (its /ready, its chaos switch),
 * not for the public: their answers name internal dependencies and errors.
 */
const INTERNAL_UPSTREAM_PATHS = new Set<string>([...Object.values(HEALTH_PATHS), CHAOS_PATH]);

/** Headers only the gateway may set; a client sending them is ignored, never trusted. */
export const GATEWAY_ONLY = [SERVICE_TOKEN_HEADER, ...Object.values(FORWARDED_PREFIX_HEADERS)];

/** An operator's version pin and the ops token that comes with it are the gateway's to read, never a service's. */
const PIN_HEADERS = [PIN_HEADER.version, PIN_HEADER.opsToken];

/**
 * Whether a path names one of a service's internal endpoints, judged as the service will see it:
 * percent-decoded (`/r%65ady` is `/ready` to the service's router).
 */
export function isInternalPath(upstreamPath: string): boolean {
  let decoded: string;
  try {
    decoded = decodeURIComponent(upstreamPath);
  } catch {
    throw badRequest('The request path is not valid percent-encoding.');
  }
  return INTERNAL_UPSTREAM_PATHS.has(decoded.replace(/\/+$/, '') || '/');
}

/** Every request header the upstream never sees: per-connection, the gateway's own, and the caller's credentials. */
const DROPPED_REQUEST_HEADERS = new Set([...HOP_BY_HOP, ...GATEWAY_ONLY, ...PIN_HEADERS, 'host', 'authorization', 'cookie']);

async function upstreamHeaders(c: Context<AppEnv<GatewayBindings>>, pipeline: RoutePipeline, identity: Identity | null): Promise<Headers> {
  // The caller's credentials stay at the edge: services learn who called from the service token
  // the gateway signs for this call, never from a token they could replay elsewhere. Built from
  // the headers the request has (a handful) rather than a copy with every dropped name deleted
  // (fifteen calls into the runtime's Headers per request, most for headers that are not there).
  const headers = new Headers();
  for (const [name, value] of c.req.raw.headers) if (!DROPPED_REQUEST_HEADERS.has(name)) headers.append(name, value);
  withPropagation(headers, c.get('requestId'), c.get('trace'));
  // Lets a service build links that work from outside (`/api/catalog/products/...`).
  for (const [name, value] of pipeline.forwardedHeaders) headers.set(name, value);
  // The feature flags on for this caller ride in the token (traffic/live-flags.ts: cached per
  // isolate, refreshed in the background, evaluated once per caller and flag set).
  const flags = (await currentFlags(c)).onFor(flagSubject(c, identity));
  headers.set(SERVICE_TOKEN_HEADER, await pipeline.tokens.token({ service: pipeline.audience, identity, flags }));
  return headers;
}

/** Work that may outlive the response (breaker reports, fallback copies) goes to `waitUntil`. */
export function deferTo(c: Context<AppEnv<GatewayBindings>>) {
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
    // A person's client may come back in a second; QStash would spend every retry that way.
    const seconds = route.policy.callers === 'qstash' ? qstashRetryAfterSeconds(c.req.header('upstash-retried')) : 1;
    return new HttpError(503, {
      type: 'bulkhead-full',
      detail: `Too many calls to the ${serviceName(route)} service are already in progress; refused at once. Try again in ${seconds} s.`,
      headers: { 'retry-after': String(seconds) },
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
 * Forwards the request to the route's service (its binding, or HTTP off Cloudflare: platform.ts)
 * with the prefix rewritten, the request id and trace propagated and a service token, under the
 * route's resilience policies (resilience/upstream-guard.ts), everything taken from the route's
 * pipeline (route-pipeline.ts). The body is streamed through, except when the request may be
 * retried: then it is read once (it is within the body limit) so every attempt can send it.
 */
export async function forward(c: Context<AppEnv<GatewayBindings>>, pipeline: RoutePipeline, identity: Identity | null): Promise<Response> {
  const { route } = pipeline;
  const incoming = new URL(c.req.url);
  const upstreamPath = rewritePath(route, incoming.pathname);
  if (isInternalPath(upstreamPath) || isHiddenPath(route, upstreamPath)) throw notFound(`No route for ${c.req.method} ${c.req.path}.`);
  const search = incoming.search;
  // Path set through the URL's pathname, never by parsing a string: `//host/x` must stay a path,
  // not become a host. The host is never resolved: a binding delivers to its worker regardless
  // (and an HTTP transport, runtimes/, puts its own origin in its place).
  const target = new URL(pipeline.origin);
  target.pathname = upstreamPath;
  target.search = search;
  const method = c.req.method;
  // Canary / blue-green: the version chosen for this caller serves the call, under its own breaker.
  const [headers, version] = await Promise.all([upstreamHeaders(c, pipeline, identity), chooseVersion(c, route, identity)]);
  // Upgrade is hop-by-hop and dropped, except where the route allows a WebSocket (traffic/websocket-upgrade.ts).
  const upgrade = isAllowedUpgrade(route, upstreamPath, c.req.raw);
  if (upgrade) headers.set('upgrade', 'websocket');
  const { guard, transport, upstream } = pipeline.upstream(version);
  // A key only makes a write repeatable where the service dedupes by it (routes.ts `idempotencyKeys`).
  const keysHonoured = route.policy.idempotencyKeys !== false;
  // An upgrade is never repeated: a socket is the client's to reopen.
  const repeatable = !upgrade && guard.policy.retry !== false && isRetryableRequest(method, keysHonoured ? c.req.raw.headers : NO_HEADERS);
  const hasBody = method !== 'GET' && method !== 'HEAD' && c.req.raw.body !== null;
  const body = hasBody && repeatable ? await c.req.raw.arrayBuffer() : hasBody ? c.req.raw.body : null;
  // The visitor cookie alone identifies no one (traffic/visitor-cookie.ts).
  const fallbackRequest = { method, upstreamPath, search, identified: identifiesCaller(c.req.raw) };
  const defer = deferTo(c);
  const { tracer } = c.get('telemetry');
  let attempts = 0;

  let response: Response;
  try {
    // The deadline covers the wait for the response head (fetch resolves then); the body streams on
    // its own time, so a large but steady download is not cut off.
    response = await guard.execute(
      ({ signal }) =>
        // Each attempt is its own span under the request's (retries read as siblings), and the
        // service continues the trace from the attempt that reached it.
        tracedCall(
          tracer,
          c.get('trace'),
          headers,
          () => ({
            name: `${method} ${upstream.name}`,
            attributes: { 'http.request.method': method, 'url.path': upstreamPath, 'upstream.service': upstream.name, 'retry.attempt': ++attempts },
          }),
          () => transport.fetch(new Request(target, { method, headers, body, redirect: 'manual', signal })),
        ),
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

  if (upgrade && response.status === 101) return upgradedResponse(response);
  // A fresh Response: the upstream's headers are immutable, and ours are added later.
  const responseHeaders = new Headers(response.headers);
  for (const name of HOP_BY_HOP) responseHeaders.delete(name);
  return new Response(response.body, { status: response.status, statusText: response.statusText, headers: responseHeaders });
}

/** `forward` through the route's pipeline in this isolate (for callers that hold a route, not its pipeline). */
export const forwardToService = (c: Context<AppEnv<GatewayBindings>>, route: Route, identity: Identity | null): Promise<Response> =>
  forward(c, routePipeline(c.env, route), identity);

/** What a request that may not be repeated by its Idempotency-Key is judged by: no headers at all. */
const NO_HEADERS = new Headers();
