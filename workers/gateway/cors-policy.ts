import type { Context, MiddlewareHandler } from 'hono';
import { cors } from 'hono/cors';
import type { AppEnv } from '../../shared/middleware/app-env';
import { gatewayConfig } from './config';
import type { GatewayBindings } from './env';

type Ctx = Context<AppEnv<GatewayBindings>>;

/** The response headers docs/api.md promises to browsers. */
const EXPOSED = ['x-request-id', 'traceresponse', 'x-cache', 'x-fallback', 'x-fallback-reason', 'age', 'idempotent-replayed', 'x-served-by', 'RateLimit', 'RateLimit-Policy', 'Retry-After'];
const EXPOSED_VALUE = EXPOSED.join(',');

const allowedOrigin = (origin: string, c: Ctx) => (gatewayConfig(c.env).CORS_ORIGINS.includes(origin) ? origin : null);

/** Preflights (OPTIONS): Hono's own middleware, as it was. */
const preflight = cors({ origin: allowedOrigin, exposeHeaders: EXPOSED, maxAge: 600 });

/**
 * CORS for the origins in `CORS_ORIGINS`. A preflight goes to `hono/cors`. Every other request gets
 * the same headers `hono/cors` would give it, set here because of what `hono/cors` costs on the
 * gateway's hot path: after the handler it appends `Vary` with `c.header()`, which on an answered
 * request rebuilds the whole Response (Hono copies a finalized response to change a header).
 * Here the allow and expose headers go on `c.res` before the handler, as in `hono/cors`: Hono
 * copies the handler's response over that placeholder once, which also makes every final
 * response's headers writable for the middleware after it; `Vary` then goes straight onto it.
 */
export const corsPolicy: MiddlewareHandler<AppEnv<GatewayBindings>> = async (c, next) => {
  if (c.req.method === 'OPTIONS') return preflight(c, next);
  const origin = allowedOrigin(c.req.header('origin') || '', c);
  const early = c.res.headers;
  if (origin) early.set('Access-Control-Allow-Origin', origin);
  early.set('Access-Control-Expose-Headers', EXPOSED_VALUE);
  await next();
  c.res.headers.append('Vary', 'Origin');
};
