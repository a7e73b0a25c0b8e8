import type { Context, MiddlewareHandler } from 'hono';
import type { AppEnv } from '../../../shared/middleware/app-env';
import type { GatewayBindings } from '../env';
import { SERVED_BY_HEADER } from './route-versions';

/** The service that answered each request through an unversioned route (the route table notes it). */
const servedBy = new WeakMap<Request, string>();

/** Notes that `name` serves this request: its answer says `x-served-by: <name>` unless it already names one. */
export const noteServedBy = (c: Context<AppEnv<GatewayBindings>>, name: string): void => void servedBy.set(c.req.raw, name);

/**
 * `x-served-by` on answers of routes without versions, so a caller sees which worker (or origin)
 * answered: `users` for a path carved out of the legacy monolith, `legacy` (the monolith's own) for
 * the rest. A versioned route's `<route>@<version>` (route-versions.ts) and an origin's own header
 * are kept.
 */
export const servedByHeader: MiddlewareHandler<AppEnv<GatewayBindings>> = async (c, next) => {
  await next();
  const name = servedBy.get(c.req.raw);
  // On the response's own headers: `c.header()` would rebuild the answered Response (cors-policy.ts).
  if (name && !c.res.headers.has(SERVED_BY_HEADER)) c.res.headers.set(SERVED_BY_HEADER, name);
};
