import type { CircuitBreakerOptions } from '../../shared/resilience/circuit-breaker';
import type { RetryOptions } from '../../shared/resilience/retry';
import type { ServiceBindings } from './env';

/**
 * The gateway's route table: configuration, not code. Each entry sends a path prefix to a
 * private service through its binding, rewrites the prefix, and names the policies that guard it.
 * Adding a service is one entry here (plus its binding in wrangler.toml); routing a prefix of an
 * old service to a new one (strangler fig) is one entry placed before the old one's.
 */

export type AuthPolicy = 'none' | 'optional' | 'required';

/** Policy slots. Each is filled by the issue that builds it; an absent slot means "off". */
export interface RoutePolicy {
  /** Who may call: the edge-auth issue verifies JWTs here. */
  auth: AuthPolicy;
  roles?: string[];
  /** Rate limiting (edge-security issue). */
  rateLimit?: { algorithm: 'token-bucket' | 'sliding-window'; limit: number; windowMs: number };
  /** Response caching for GETs (edge-security issue). */
  cache?: { ttlSeconds: number; staleWhileRevalidateSeconds: number; tags?: string[] };
  /** Circuit breaker and retry (resilience issue): overrides of the policies' own defaults. */
  breaker?: Partial<CircuitBreakerOptions>;
  retry?: Partial<RetryOptions>;
  /** Deadline for the upstream call, in milliseconds. */
  timeoutMs?: number;
}

export interface Route {
  /** Short name: the `service` label in metrics and logs, and the route's name in /_ops. */
  name: string;
  /** Path prefix on the gateway, matched on segment boundaries (`/api/catalog` ≠ `/api/catalogue`). */
  prefix: string;
  /** The service binding that serves it. */
  service: keyof ServiceBindings;
  /** What replaces the prefix upstream: '' strips it (`/api/catalog/products` → `/products`). */
  upstreamPrefix: string;
  policy: RoutePolicy;
}

export const routes: readonly Route[] = [
  {
    name: 'catalog',
    prefix: '/api/catalog',
    service: 'CATALOG',
    upstreamPrefix: '',
    policy: { auth: 'optional', timeoutMs: 10_000 },
  },
];

/** The upstream path for a gateway path under `route.prefix`. */
export function rewritePath(route: Route, path: string): string {
  const rest = path.slice(route.prefix.length);
  const rewritten = `${route.upstreamPrefix}${rest}`;
  return rewritten.startsWith('/') ? rewritten : `/${rewritten}`;
}

/** The route label used in logs and metrics: one per route, never per concrete path. */
export const routeLabel = (route: Route) => `${route.prefix}/*`;
