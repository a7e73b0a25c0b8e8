import { FORWARDED_PREFIX_HEADERS } from '../../shared/http/public-path';
import type { BalancerKind } from '../../shared/routing/balancer-kinds';
import type { RateLimitPolicy } from '../../shared/ratelimit/policy';
import type { BulkheadOptions } from '../../shared/resilience/bulkhead';
import type { CircuitBreakerOptions } from '../../shared/resilience/circuit-breaker';
import type { RetryOptions } from '../../shared/resilience/retry';
import type { CachePolicy } from './cache/cache-policy';
import { catalogCacheInvalidations, catalogCacheTags, purgeTagsFromAnswer } from './cache/catalog-tags';
import topology from '../../shared/events/topology.json' with { type: 'json' };
import type { ServiceBindings } from './env';
import type { FallbackRule } from './resilience/fallback-rules';

/**
 * The gateway's route table: configuration, not code. Each entry sends a path prefix to a
 * private service through its binding, rewrites the prefix, and names the policies that guard it.
 * Adding a service is one entry here (plus its binding in wrangler.toml); routing a prefix of an
 * old service to a new one (strangler fig) is one entry placed before the old one's.
 */

export type AuthPolicy = 'none' | 'optional' | 'required';

/**
 * Policy slots. Resilience slots override the defaults in route-policy.ts field by field, and the
 * `ROUTE_POLICIES` var overrides them per deployment (config.ts); an absent slot means "defaults".
 */
export interface RoutePolicy {
  /** Who may call: access tokens are verified at the edge (auth/caller-identity.ts). */
  auth: AuthPolicy;
  /** Upstream paths where no caller is asked for (an Authorization header there is ignored). */
  anonymousPaths?: string[];
  /**
   * Upstream path prefixes this route never forwards (404): the service's endpoints for other
   * services (the saga's /inventory, QStash's /hooks, reached by their own routes or bindings).
   */
  hiddenPaths?: string[];
  roles?: string[];
  /** Requests per caller (user, else CF-Connecting-IP) per window; traffic/rate-limit.ts enforces it. */
  rateLimit?: RateLimitPolicy;
  /** When the limiter cannot answer: `open` (default) lets the request through, `closed` answers 503. */
  rateLimitFailure?: 'open' | 'closed';
  /** Response caching for GETs: TTL, stale-while-revalidate, tags and what purges them (cache/response-cache.ts). */
  cache?: CachePolicy;
  /** Deadline for the whole upstream call, retries included, in milliseconds. */
  timeoutMs?: number;
  /** Retries of requests that are safe to repeat; `false` turns them off. */
  retry?: Partial<RetryOptions> | false;
  /** The upstream's circuit breaker (one per route, shared by every isolate); `false` turns it off. */
  breaker?: Partial<CircuitBreakerOptions> | false;
  /** Calls one isolate may hold against the upstream at once, and how many may wait. */
  bulkhead?: Partial<BulkheadOptions>;
  /** What a failed GET is answered with instead, tried in order; none means a problem+json error. */
  fallback?: FallbackRule[];
  /**
   * Whether the service answers a repeated `Idempotency-Key` with the first result (docs/architecture.md
   * decision 3); default true. `false`: its writes are sent once, key or not (proxy.ts), since a
   * retry after a timeout could apply a write that already committed a second time.
   */
  idempotencyKeys?: boolean;
  /**
   * Upstream paths where a `GET` with `Upgrade: websocket` is let through as an upgrade
   * (`/orders/:id/live`; `:name` is one segment); everywhere else `Upgrade` is stripped. There a
   * well-formed `?ticket=` stands in for the access token, for the service to redeem
   * (traffic/websocket-upgrade.ts).
   */
  websocketPaths?: string[];
  /**
   * `'qstash'`: the callers are QStash deliveries, which take a `Retry-After` in place of their
   * backoff; a 503 the gateway answers itself then carries a hint that spreads the retries
   * (resilience/qstash-retry-after.ts) instead of "1 s".
   */
  callers?: 'qstash';
}

/** What every route has, whatever serves it: a service binding (`Route`) or a pool of HTTP origins (`OriginRoute`). */
export interface RouteBase {
  /** Short name: the `service` label in metrics and logs, and the route's name in /_ops. */
  name: string;
  /** Path prefix on the gateway, matched on segment boundaries (`/api/catalog` ≠ `/api/catalogue`). */
  prefix: string;
  /** What replaces the prefix upstream: '' strips it (`/api/catalog/products` → `/products`). */
  upstreamPrefix: string;
  policy: RoutePolicy;
}

export interface Route extends RouteBase {
  /** The service binding that serves it. */
  service: keyof ServiceBindings;
  /**
   * Canary / blue-green: versions of the service, each on its own binding; one is chosen per
   * caller, sticky, by the weights (traffic/route-versions.ts). One of them is usually `service` itself.
   */
  versions?: Readonly<Record<string, { service: keyof ServiceBindings }>>;
  /** The split until an operator sets one (`PUT /_ops/routes/:name`): whole percents, summing to 100. */
  defaultWeights?: Readonly<Record<string, number>>;
}

/** One HTTP origin of a pool: `name` is its label in /_ops/origins, metrics and its breaker's name. */
export interface OriginSpec {
  name: string;
  /** Its base URL (`http://10.0.0.7:8080`, or with a base path); the upstream path goes after it. */
  url: string;
  /** A positive integer share, for the balancers that weigh (smooth-weighted, least-outstanding, the hashing ones); default 1. */
  weight?: number;
}

/**
 * A pool of HTTP origins behind one route (traffic/origin-pool.ts): a balancer from
 * shared/routing picks one per attempt among the healthy ones. An origin is skipped while its
 * own circuit breaker is open (passive health: the route's `breaker` policy, one breaker per
 * origin) or while its last scheduled `GET <healthPath>` failed (active health: the gateway's cron,
 * traffic/origin-health.ts), and picked again once both say it is back.
 */
export interface OriginPool {
  balancer: BalancerKind;
  /**
   * What the hashing balancers hash: `user` (the signed-in user, else the visitor cookie as canary
   * routing keys callers), `cookie` (the cookie named `hashCookie`, else the address) or `ip`.
   */
  hashBy?: 'user' | 'cookie' | 'ip';
  hashCookie?: string;
  /** The origins in the code; a deployment's `ORIGIN_POOLS` var replaces them (config.ts). */
  origins: readonly OriginSpec[];
  /** What the health check asks each origin for; default `/health`, 2xx is healthy. */
  healthPath?: string;
}

/**
 * A route served by HTTP origins instead of a service binding. Its callers' credentials
 * (Authorization, cookies) go to the origin as they came (the origin is its own authority: a
 * legacy monolith keeps its sessions), and no service token is minted for it.
 */
export interface OriginRoute extends RouteBase {
  pool: OriginPool;
}

export const isOriginRoute = (route: RouteBase): route is OriginRoute => 'pool' in route;

/** Which service each QStash consumer (shared/events/topology.json) lives in. */
const CONSUMER_SERVICES: Record<keyof typeof topology.consumers, keyof ServiceBindings> = {
  notifications: 'NOTIFICATIONS',
  mail: 'NOTIFICATIONS',
  'order-summaries': 'ORDERS',
  catalog: 'CATALOG',
};

/**
 * `POST /hooks/<consumer>`: QStash deliveries (docs/api.md). No caller identity, rate limit, retry or
 * breaker at the edge: the consumer verifies the `Upstash-Signature` itself (401 if unsigned or
 * tampered), and QStash is the retry policy (a non-2xx is redelivered with backoff, then
 * dead-lettered). The body reaches the consumer byte for byte: the signature covers it.
 */
const hookRoutes: Route[] = Object.entries(topology.consumers).map(([consumer, path]) => ({
  name: `hooks-${consumer}`,
  prefix: path,
  service: CONSUMER_SERVICES[consumer as keyof typeof CONSUMER_SERVICES],
  upstreamPrefix: path,
  policy: {
    auth: 'none',
    timeoutMs: 10_000,
    retry: false,
    breaker: false,
    callers: 'qstash',
    // The catalog's consumer names the products an order changed: their cached answers are purged.
    ...(consumer === 'catalog' ? { cache: { ttlSeconds: 0, staleWhileRevalidateSeconds: 0, invalidates: purgeTagsFromAnswer } } : {}),
  },
}));

export const routes: readonly Route[] = [
  {
    name: 'catalog',
    prefix: '/api/catalog',
    service: 'CATALOG',
    upstreamPrefix: '',
    // v2 is the same code deployed again (workers/catalog-canary), on the same data; it gets no
    // traffic until an operator moves some to it.
    versions: { v1: { service: 'CATALOG' }, v2: { service: 'CATALOG_CANARY' } },
    defaultWeights: { v1: 100, v2: 0 },
    policy: {
      auth: 'optional',
      // Stock moves only through the order saga (the orders service's own token); events arrive at /hooks/catalog.
      hiddenPaths: ['/inventory', '/hooks'],
      // Per caller (user, else address): a browsing person stays far below it, a scraper does not.
      rateLimit: { algorithm: 'sliding-window', limit: 100, windowMs: 10_000 },
      timeoutMs: 3_000,
      retry: { maxAttempts: 3, baseDelayMs: 50, maxDelayMs: 500 },
      // Reads are cheap to refuse and cheap to degrade: open after 5 calls at 50% failures.
      breaker: { minimumCalls: 5, failureRateThreshold: 50, openDurationMs: 10_000, halfOpenMaxCalls: 2 },
      bulkhead: { maxConcurrent: 64, maxQueue: 64 },
      // Fresh 30 s, then served stale for 60 s more while one refresh runs; a product change
      // (POST/PUT answered 2xx) purges that product and every list at once.
      cache: { ttlSeconds: 30, staleWhileRevalidateSeconds: 60, tags: catalogCacheTags, invalidates: catalogCacheInvalidations },
      fallback: [
        { kind: 'last-good', maxAgeMs: 10 * 60_000 },
        // A first page that fails with nothing cached for it is answered with the most viewed
        // products; a search or a later page is not (the list would not be what was asked).
        { kind: 'degraded', paths: ['/products'], queries: ['limit'], source: '/products/popular?limit=20', refreshMs: 60_000, maxAgeMs: 60 * 60_000 },
      ],
    },
  },
  {
    name: 'users',
    prefix: '/api/users',
    service: 'USERS',
    upstreamPrefix: '',
    policy: {
      // Register and login are for anyone; /me needs a caller, which the service checks.
      auth: 'optional',
      anonymousPaths: ['/register', '/login', '/refresh', '/logout'],
      // Every register and login costs a 100,000-iteration PBKDF2: a caller gets 60 a minute
      // (the service also limits login per account and per address).
      rateLimit: { algorithm: 'sliding-window', limit: 60, windowMs: 60_000 },
      // An unlimited caller here is a password-guessing and CPU-burning one: no limiter, no call.
      rateLimitFailure: 'closed',
      timeoutMs: 5_000,
      // Login and register are POSTs without an Idempotency-Key: never retried (proxy.ts).
      retry: { maxAttempts: 2, baseDelayMs: 50, maxDelayMs: 500 },
      breaker: { minimumCalls: 10, failureRateThreshold: 50, openDurationMs: 10_000, halfOpenMaxCalls: 2 },
    },
  },
  {
    // The keys that verify access tokens (docs/api.md), published by the users service.
    name: 'jwks',
    prefix: '/.well-known/jwks.json',
    service: 'USERS',
    upstreamPrefix: '/.well-known/jwks.json',
    // Its own breaker would only shadow the users service's: the route has none.
    policy: { auth: 'none', timeoutMs: 2_000, breaker: false, fallback: [{ kind: 'last-good', maxAgeMs: 60 * 60_000 }] },
  },
  {
    name: 'orders',
    prefix: '/api/orders',
    service: 'ORDERS',
    upstreamPrefix: '/orders',
    policy: {
      auth: 'required',
      // Per user: placing an order starts a saga across three services; 30 per 10 s is generous
      // for a person and a wall for a script.
      rateLimit: { algorithm: 'sliding-window', limit: 30, windowMs: 10_000 },
      timeoutMs: 5_000,
      // POST /orders carries its Idempotency-Key, so it is retried safely (the same key is the same order).
      retry: { maxAttempts: 3, baseDelayMs: 100, maxDelayMs: 1_000 },
      breaker: { minimumCalls: 5, failureRateThreshold: 50, openDurationMs: 10_000, halfOpenMaxCalls: 2 },
      bulkhead: { maxConcurrent: 32, maxQueue: 32 },
      // An order's progress as a WebSocket (the orders service's OrderLive object).
      websocketPaths: ['/orders/:id/live'],
    },
  },
  {
    // The caller's own notifications (docs/api.md); the service's operator counts stay inside.
    name: 'notifications',
    prefix: '/api/notifications',
    service: 'NOTIFICATIONS',
    upstreamPrefix: '/notifications',
    policy: {
      auth: 'required',
      hiddenPaths: ['/notifications/stats'],
      // Per user, as orders: a page is one indexed D1 read; 30 per 10 s.
      rateLimit: { algorithm: 'sliding-window', limit: 30, windowMs: 10_000 },
      timeoutMs: 3_000,
      retry: { maxAttempts: 3, baseDelayMs: 50, maxDelayMs: 500 },
      breaker: { minimumCalls: 5, failureRateThreshold: 50, openDurationMs: 10_000, halfOpenMaxCalls: 2 },
      bulkhead: { maxConcurrent: 32, maxQueue: 32 },
    },
  },
  {
    name: 'payments',
    prefix: '/api/payments',
    service: 'PAYMENTS',
    upstreamPrefix: '/payments',
    policy: {
      // Payments are nobody else's business. Until edge auth lands only the operator token is an
      // identity; the owner check ("one of the caller's orders") comes with orders.
      auth: 'required',
      // Per caller, as orders: a charge is a call to the card processor; 30 per 10 s. A flood of
      // bad tokens is counted by address (route-table.ts), so it meets the limit too.
      rateLimit: { algorithm: 'sliding-window', limit: 30, windowMs: 10_000 },
      timeoutMs: 5_000,
      // Charges are retried only with an Idempotency-Key (proxy.ts); the service dedupes by it.
      retry: { maxAttempts: 3, baseDelayMs: 100, maxDelayMs: 1_000 },
      // Money is never faked: no fallback, and a stricter breaker that probes one call at a time.
      breaker: { minimumCalls: 5, failureRateThreshold: 25, openDurationMs: 30_000, halfOpenMaxCalls: 1 },
      bulkhead: { maxConcurrent: 16, maxQueue: 8 },
    },
  },
  {
    name: 'ledger',
    prefix: '/api/ledger',
    service: 'LEDGER',
    upstreamPrefix: '/ledger',
    policy: {
      // Accounts are a signed-in user's business (the service refuses a call without one, too).
      auth: 'required',
      // Per user, as orders: every command is an append to an event stream; 30 per 10 s.
      rateLimit: { algorithm: 'sliding-window', limit: 30, windowMs: 10_000 },
      timeoutMs: 5_000,
      // Reads (now, as of a version or a time) are retried, and so are writes that carry an
      // Idempotency-Key: the ledger records the key in the append's own batch and answers a
      // repeat with the first result. A write without a key is never retried here (a client's
      // If-Match makes its own retry safe: a repeat is 409).
      retry: { maxAttempts: 3, baseDelayMs: 100, maxDelayMs: 1_000 },
      // Money is never faked: no fallback, and a strict breaker that probes one call at a time.
      breaker: { minimumCalls: 5, failureRateThreshold: 25, openDurationMs: 30_000, halfOpenMaxCalls: 1 },
      bulkhead: { maxConcurrent: 16, maxQueue: 8 },
    },
  },
  ...hookRoutes,
];

/**
 * Routes served by pools of HTTP origins, mounted after every route above. `legacy` is the
 * strangler fig: the old monolith gets whatever nothing else claims (prefix `/`: no route above
 * and none of the gateway's own endpoints), and each route above that takes one of its paths
 * (`/api/users`) carves that path out of it. Its origins come from the deployment (`ORIGIN_POOLS`);
 * with none, those paths answer 404 as before.
 */
export const originRoutes: readonly OriginRoute[] = [
  {
    name: 'legacy',
    prefix: '/',
    upstreamPrefix: '',
    pool: { balancer: 'round-robin', origins: [] },
    policy: {
      // The monolith checks its own sessions; the gateway neither asks for nor drops credentials here.
      auth: 'none',
      // The gateway's own endpoints stay its own: a path under them that nothing matched is a 404,
      // never the monolith's to answer.
      hiddenPaths: ['/_ops', '/bff', '/hooks', '/.well-known', '/api/flags', '/docs', '/openapi.json', '/metrics', '/health', '/ready'],
      timeoutMs: 10_000,
      retry: { maxAttempts: 2, baseDelayMs: 50, maxDelayMs: 500 },
      breaker: { minimumCalls: 5, failureRateThreshold: 50, openDurationMs: 10_000, halfOpenMaxCalls: 2 },
      bulkhead: { maxConcurrent: 64, maxQueue: 64 },
    },
  },
];

/**
 * The name of the service a route reaches (its binding, lower-cased: `CATALOG` → `catalog`): the
 * audience of its service tokens, its key in /ready, and what /_ops/chaos/:service names. Several
 * routes may reach one service (users serves `/api/users` and the JWKS).
 */
export const serviceName = (route: Route): string => route.service.toLowerCase();

/** The upstream path for a gateway path under `route.prefix`. */
export function rewritePath(route: RouteBase, path: string): string {
  const rest = path.slice(route.prefix.length);
  const rewritten = `${route.upstreamPrefix}${rest}`;
  return rewritten.startsWith('/') ? rewritten : `/${rewritten}`;
}

/**
 * Whether no caller is asked for at this upstream path of `route` (`auth: 'none'`, or one of its
 * `anonymousPaths`, e.g. login): the route table skips the access token there, and the OpenAPI
 * document (openapi/edge-policy.ts) says the path takes no credentials.
 */
export const isAnonymousPath = (route: RouteBase, upstreamPath: string): boolean =>
  route.policy.auth === 'none' || (route.policy.anonymousPaths?.includes(upstreamPath) ?? false);

/**
 * Whether the route keeps this upstream path to itself (`hiddenPaths`), judged decoded and with
 * repeated slashes collapsed, as the service sees it: the proxy answers 404 there, and the
 * OpenAPI document (openapi/document.ts) leaves the path out.
 */
export function isHiddenPath(route: RouteBase, upstreamPath: string): boolean {
  const hidden = route.policy.hiddenPaths;
  if (!hidden?.length) return false;
  const decoded = decodeURIComponent(upstreamPath).replace(/\/{2,}/g, '/');
  return hidden.some((prefix) => decoded === prefix || decoded.startsWith(`${prefix}/`));
}

/** What tells the service how its paths look from outside (shared/http/public-path.ts). */
export function forwardedPrefixHeaders(route: RouteBase): Record<string, string> {
  const headers: Record<string, string> = { [FORWARDED_PREFIX_HEADERS.public]: route.prefix };
  if (route.upstreamPrefix) headers[FORWARDED_PREFIX_HEADERS.upstream] = route.upstreamPrefix;
  return headers;
}

/** The route label used in logs and metrics: one per route, never per concrete path. */
export const routeLabel = (route: RouteBase) => (route.prefix === '/' ? '/*' : `${route.prefix}/*`);
