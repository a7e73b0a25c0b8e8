import type { Context } from 'hono';
import { cors } from 'hono/cors';
import type { AppEnv } from '../../shared/middleware/app-env';
import { gatewayConfig } from './config';
import type { GatewayBindings } from './env';

/** CORS for the origins in `CORS_ORIGINS`, exposing the headers docs/api.md promises to browsers. */
export const corsPolicy = cors({
  origin: (origin, c: Context<AppEnv<GatewayBindings>>) => (gatewayConfig(c.env).CORS_ORIGINS.includes(origin) ? origin : null),
  exposeHeaders: ['x-request-id', 'traceresponse', 'x-cache', 'x-fallback', 'x-fallback-reason', 'age', 'idempotent-replayed', 'x-served-by', 'RateLimit', 'RateLimit-Policy', 'Retry-After'],
  maxAge: 600,
});
