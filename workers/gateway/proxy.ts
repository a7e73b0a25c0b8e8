import type { Context } from 'hono';
import { IDENTITY_HEADERS, type Identity } from '../../shared/http/identity';
import { badGateway, gatewayTimeout, isHttpError, notFound } from '../../shared/http/problem';
import type { AppEnv } from '../../shared/middleware/app-env';
import { HEALTH_PATHS } from '../../shared/middleware/service-app';
import { withPropagation } from '../../shared/observability/propagation';
import { wrap } from '../../shared/resilience/policy';
import { isTimeoutError, timeout } from '../../shared/resilience/timeout';
import type { GatewayBindings } from './env';
import { rewritePath, type Route } from './routes';

/** Hop-by-hop headers (RFC 9110 §7.6.1) describe one connection and are never forwarded. */
const HOP_BY_HOP = ['connection', 'keep-alive', 'proxy-authenticate', 'proxy-authorization', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade'];

/**
 * A service's operational endpoints are for the gateway's own /ready, not for the public: their
 * answers name internal dependencies and errors.
 */
const INTERNAL_UPSTREAM_PATHS = new Set<string>(Object.values(HEALTH_PATHS));

/** Headers only the gateway may set; a client sending them is ignored, never trusted. */
const GATEWAY_ONLY = [IDENTITY_HEADERS.userId, IDENTITY_HEADERS.roles, 'x-forwarded-prefix'];

function upstreamHeaders(c: Context<AppEnv<GatewayBindings>>, route: Route, identity: Identity | null): Headers {
  const headers = new Headers(c.req.raw.headers);
  for (const name of [...HOP_BY_HOP, ...GATEWAY_ONLY, 'host']) headers.delete(name);
  withPropagation(headers, c.get('requestId'), c.get('trace'));
  // Lets a service build links that work from outside (`/api/catalog/products/...`).
  headers.set('x-forwarded-prefix', route.prefix);
  if (identity) {
    headers.set(IDENTITY_HEADERS.userId, identity.userId);
    headers.set(IDENTITY_HEADERS.roles, identity.roles.join(','));
  }
  return headers;
}

/**
 * Forwards the request to the route's service binding with the prefix rewritten, the request id
 * and trace propagated, and the body streamed through (never buffered here).
 */
export async function forwardToService(
  c: Context<AppEnv<GatewayBindings>>,
  route: Route,
  identity: Identity | null,
): Promise<Response> {
  const incoming = new URL(c.req.url);
  const upstreamPath = rewritePath(route, incoming.pathname);
  if (INTERNAL_UPSTREAM_PATHS.has(upstreamPath)) throw notFound(`No route for ${c.req.method} ${c.req.path}.`);
  // Path set through the URL's pathname, never by parsing a string: `//host/x` must stay a path,
  // not become a host. The host is never resolved: a binding delivers to its worker regardless.
  const target = new URL(`https://${route.name}.internal`);
  target.pathname = upstreamPath;
  target.search = incoming.search;
  const method = c.req.method;
  const headers = upstreamHeaders(c, route, identity);
  const body = method === 'GET' || method === 'HEAD' ? null : c.req.raw.body;
  const { timeoutMs } = route.policy;
  // The deadline covers the wait for the response head (fetch resolves then); the body streams on
  // its own time, so a large but steady download is not cut off.
  const deadline = timeoutMs === undefined ? wrap() : timeout(timeoutMs);

  let response: Response;
  try {
    response = await deadline.execute(({ signal }) =>
      c.env[route.service].fetch(new Request(target, { method, headers, body, redirect: 'manual', signal })),
    );
  } catch (error) {
    if (isHttpError(error)) throw error;
    if (isTimeoutError(error)) {
      c.get('log').warn('upstream timed out', { upstream: route.name, timeoutMs });
      throw gatewayTimeout(`The ${route.name} service did not answer within ${timeoutMs} ms.`);
    }
    c.get('log').warn('upstream unreachable', { upstream: route.name, error });
    throw badGateway(`The ${route.name} service could not be reached.`, error);
  }

  // A fresh Response: the upstream's headers are immutable, and ours are added later.
  const responseHeaders = new Headers(response.headers);
  for (const name of HOP_BY_HOP) responseHeaders.delete(name);
  return new Response(response.body, { status: response.status, statusText: response.statusText, headers: responseHeaders });
}
