import { Hono, type Context, type MiddlewareHandler } from 'hono';
import { secureHeaders } from 'hono/secure-headers';
import { contentTooLarge } from '../http/problem';
import { isLogLevel } from '../observability/logger';
import { checkReadiness, readinessResponse, type ReadinessCheck } from '../observability/readiness';
import type { AppEnv } from './app-env';
import { bodyLimit } from './body-limit';
import { problemNotFound, problemOnError } from './problem-handlers';
import { requestContext, type RequestContextOptions } from './request-context';
import { HEALTH_PATHS } from './health-paths';
import { requireJson } from './require-json';
import { serviceAuth } from './service-auth';

export const DEFAULT_BODY_LIMIT_BYTES = 1024 * 1024;

export { HEALTH_PATHS };

export interface ServiceAppOptions extends Omit<RequestContextOptions, 'logLevel'> {
  /** Largest accepted request body; default 1 MiB (docs/api.md), or the `BODY_LIMIT_BYTES` var. */
  bodyLimitBytes?: number;
  /**
   * Middleware that must see every request before the body checks, e.g. CORS, so that even a
   * 413 or 415 carries the CORS headers a browser needs to read it.
   */
  early?: MiddlewareHandler[];
  /**
   * Services behind the gateway verify its service token on every call but `/health`
   * (service-auth.ts). The gateway itself, the public entry, does not.
   */
  verifyServiceToken?: boolean;
}

const envOf = (c: Context) => (c.env ?? {}) as Record<string, unknown>;

/** One `bodyLimit` per configured size, built once: the limit comes from env, known per request. */
function bodyLimitFromEnv(fallback: number): MiddlewareHandler {
  const limits = new Map<number, MiddlewareHandler>();
  return async function bodyLimitFromEnv(c, next) {
    const configured = Number(envOf(c).BODY_LIMIT_BYTES);
    const maxSize = Number.isInteger(configured) && configured > 0 ? configured : fallback;
    let limit = limits.get(maxSize);
    if (!limit) {
      limit = bodyLimit(maxSize, () => contentTooLarge(maxSize));
      limits.set(maxSize, limit);
    }
    return limit(c, next);
  };
}

/**
 * A Hono app with the baseline every stratus worker shares, in this order: request id, trace
 * context and the request log line; security headers; the body limit (413); JSON-only bodies
 * (415); and problem+json for every error and unknown route. Hardening is identical across
 * workers because it is this one function.
 */
export function createServiceApp<Bindings extends object>(options: ServiceAppOptions): Hono<AppEnv<Bindings>> {
  const app = new Hono<AppEnv<Bindings>>();
  app.use(
    requestContext({
      ...options,
      logLevel: (c) => {
        const level = envOf(c).LOG_LEVEL;
        return isLogLevel(level) ? level : 'info';
      },
    }),
  );
  for (const middleware of options.early ?? []) app.use(middleware);
  app.use(secureHeaders());
  if (options.verifyServiceToken) app.use(serviceAuth(options.service));
  app.use(bodyLimitFromEnv(options.bodyLimitBytes ?? DEFAULT_BODY_LIMIT_BYTES));
  app.use(requireJson());
  app.onError((error, c) => problemOnError(error, c));
  app.notFound((c) => problemNotFound(c));
  return app;
}

/**
 * `/health` (liveness: the isolate runs) and `/ready` (readiness: every dependency answers).
 * Liveness never touches a dependency, so a database outage does not get healthy isolates killed.
 */
export function addHealthRoutes<Bindings extends object>(
  app: Hono<AppEnv<Bindings>>,
  checks: (c: Context<AppEnv<Bindings>>) => Record<string, ReadinessCheck>,
  timeoutMs: number | ((c: Context<AppEnv<Bindings>>) => number) = 2_000,
): void {
  app.get(HEALTH_PATHS.live, (c) => c.json({ status: 'ok' }, 200, { 'cache-control': 'no-store' }));
  app.get(HEALTH_PATHS.ready, async (c) => {
    const deadline = typeof timeoutMs === 'function' ? timeoutMs(c) : timeoutMs;
    return readinessResponse(await checkReadiness(checks(c), deadline));
  });
}
