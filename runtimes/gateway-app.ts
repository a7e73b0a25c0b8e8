import { MemoryBreakerAuthority } from '../shared/adapters/memory/memory-breaker-authority';
import { MemoryRateLimitBackend } from '../shared/adapters/memory/memory-rate-limit-backend';
import { upstashRateLimitBackend } from '../shared/adapters/upstash/ratelimit-backend';
import { UpstashBreakerAuthorities } from '../shared/adapters/upstash/redis-breaker-authority';
import { canonicalAddress } from '../shared/http/client-network';
import { addHealthRoutes, createServiceApp } from '../shared/middleware/service-app';
import type { RateLimitBackend } from '../shared/ratelimit/policy';
import { gatewayConfig } from '../workers/gateway/config';
import { corsPolicy } from '../workers/gateway/cors-policy';
import type { GatewayBindings, ServiceBindings } from '../workers/gateway/env';
import { DECISION_DEADLINE_MS, PLATFORM, type GatewayPlatform, type ServiceTransport } from '../workers/gateway/platform';
import { serviceChecks } from '../workers/gateway/ops/readiness';
import { addRouteTable } from '../workers/gateway/route-table';
import { serviceTargets } from '../workers/gateway/traffic/route-versions';
import { originRoutes, routes, type OriginRoute, type Route } from '../workers/gateway/routes';
import { poolOrigins } from '../workers/gateway/traffic/origin-pool';
import { servedByHeader } from '../workers/gateway/traffic/served-by';
import { httpService } from './http-service';
import { MemoryOriginHealth, startOriginHealthTimer } from './origin-health-timer';
import { portableConfig, SERVICE_NAMES, type PortableConfig } from './portable-config';

/**
 * The gateway off Cloudflare (Bun, Deno; Node would do too): the same route table, auth, rate
 * limiting, and upstream guard (timeout, retry, bulkhead, circuit breaker, fallbacks) as the
 * worker, mounted on the same baseline app, with the platform injected (platform.ts):
 *
 * - services over HTTP at `UPSTREAM_<NAME>_URL` instead of service bindings;
 * - rate limits and each circuit breaker's authority in this process's memory (`STATE=memory`,
 *   the default: shared/adapters/memory), or in Upstash Redis (`STATE=upstash`), shared by every
 *   process as the Durable Objects are by every isolate.
 *
 * What the worker has and this does not (each of them is Durable Objects or the Cache API):
 * the response cache and its tags (catalog answers are never `x-cache: HIT`), canary / blue-green
 * routing (each route is served by its own service; its `versions` are dropped), `/metrics`,
 * `/_ops` (breakers, chaos, weights, DLQ), the BFF screens and `/api/flags`. A route whose service
 * has no URL configured is not served (404), and `/ready` checks only the services that have one.
 */
export interface PortableGateway {
  readonly config: PortableConfig;
  readonly routes: readonly (Route | OriginRoute)[];
  /**
   * Answers one request. `peerAddress` is the TCP peer as the server saw it: it becomes
   * `CF-Connecting-IP` (workers/gateway/traffic/rate-limit.ts keys anonymous callers by it), overwriting whatever the
   * client sent, as Cloudflare's edge does; without one the header is removed. When the peer is
   * one of TRUSTED_PROXIES, the client address it reports in X-Forwarded-For is taken instead
   * (`clientAddress`). Forwarding headers (X-Forwarded-*, Forwarded, X-Real-IP) never reach a service.
   */
  fetch(request: Request, peerAddress?: string): Promise<Response>;
}

function memoryBreakers(): (upstream: string) => MemoryBreakerAuthority {
  const byUpstream = new Map<string, MemoryBreakerAuthority>();
  return (upstream) => {
    let authority = byUpstream.get(upstream);
    if (!authority) {
      authority = new MemoryBreakerAuthority();
      byUpstream.set(upstream, authority);
    }
    return authority;
  };
}

function breakerAuthorities(state: PortableConfig['state']): GatewayPlatform['breakerAuthority'] {
  if (state.kind === 'memory') return memoryBreakers();
  const breakers = new UpstashBreakerAuthorities({ url: state.url, token: state.token });
  return (upstream) => breakers.authority(upstream);
}

function portablePlatform(name: string, config: PortableConfig): GatewayPlatform {
  const transports = new Map<keyof ServiceBindings, ServiceTransport>();
  for (const [service, base] of Object.entries(config.upstreams) as [keyof ServiceBindings, string][]) transports.set(service, httpService(base));
  const { state } = config;
  const rateLimits: RateLimitBackend =
    state.kind === 'upstash' ? upstashRateLimitBackend({ url: state.url, token: state.token, timeoutMs: DECISION_DEADLINE_MS }) : new MemoryRateLimitBackend();
  return {
    name,
    service: (binding) => {
      const transport = transports.get(binding);
      // Only routes with a configured service are mounted, so reaching this is a bug, said plainly.
      if (!transport) throw new Error(`no UPSTREAM_${binding}_URL is configured`);
      return transport;
    },
    rateLimits,
    breakerAuthority: breakerAuthorities(state),
    originHealth: new MemoryOriginHealth(),
  };
}

/** The worker's bindings (env.ts, cache/cache-config.ts): none of them exists here. */
const CLOUDFLARE_BINDINGS = new Set<string>([...SERVICE_NAMES, 'CATALOG_CANARY', 'METRICS', 'BREAKERS', 'RATE_LIMITER', 'ROUTE_WEIGHTS', 'CACHE_TAGS', 'FLAGS', 'ROLLOUTS', 'ORIGIN_HEALTH', 'ALERTS', 'OPS_LIVE']);

/**
 * The gateway's code is typed against the worker's env; here it holds only the variables and the
 * platform (under the PLATFORM symbol). Every binding the mounted code needs is reached through
 * the platform (platform.ts), and what reads Durable Objects or the Cache API directly is not
 * mounted (see above). Should code
 * that reads a binding ever be mounted here, it fails at once, naming it, not with an `undefined`.
 */
function portableEnv(vars: Record<string, string | undefined>, platform: GatewayPlatform): GatewayBindings {
  const env = new Proxy<Record<string | symbol, unknown>>({ ...vars, [PLATFORM]: platform }, {
    get(target, name, receiver) {
      if (typeof name === 'string' && CLOUDFLARE_BINDINGS.has(name)) {
        throw new Error(`${name} is a Cloudflare binding: the gateway on ${platform.name} has none (workers/gateway/platform.ts)`);
      }
      return Reflect.get(target, name, receiver);
    },
  });
  return env as unknown as GatewayBindings;
}

/** The route table as served here: routes whose service has a URL, each by its own service (no canary versions). */
function servedRoutes(config: PortableConfig): Route[] {
  return routes.filter((route) => config.upstreams[route.service]).map(({ versions: _versions, defaultWeights: _weights, ...route }) => route);
}

/** What proxies write about the original request (X-Forwarded-For/-Host/-Proto, Forwarded, X-Real-IP). */
const CLIENT_FORWARDING_HEADER = /^(x-forwarded-|forwarded$|x-real-ip$)/;

/**
 * The caller's address: the TCP peer, unless the peer is a trusted proxy (TRUSTED_PROXIES); then
 * X-Forwarded-For read from the right (each proxy appends the address it was called from), past
 * every trusted proxy, to the first address none of them vouches for. Entries left of that one are
 * the client's to write, so they are never taken. An entry there that is not an address keys the
 * caller by the proxy that reported it (limited with everyone behind it, not let through).
 */
export function clientAddress(peer: string, forwardedFor: string | null, trusted: ReadonlySet<string>): string {
  let client = peer;
  const hops = (forwardedFor ?? '').split(',').map((hop) => hop.trim()).filter(Boolean);
  while (trusted.has(canonicalAddress(client) ?? '') && hops.length > 0) {
    const hop = hops.pop()!;
    if (!canonicalAddress(hop)) return client;
    client = hop;
  }
  return client;
}

/** Builds the gateway from the environment's variables (`runtime` names the platform in logs). */
export function portableGateway(runtime: string, vars: Record<string, string | undefined>): PortableGateway {
  const config = portableConfig(vars);
  const platform = portablePlatform(runtime, config);
  // Origin health lives in this process's memory: reading it is free, so no isolate cache in front.
  const env = portableEnv({ ORIGIN_HEALTH_REFRESH_MS: '0', ...vars }, platform);
  // Fails at start, naming the variable, rather than on the first request.
  gatewayConfig(env);

  // Pool routes with origins here (ORIGIN_POOLS, as on Cloudflare), checked by a timer in place of the cron.
  const pools: OriginRoute[] = originRoutes.filter((route) => poolOrigins(env, route).length > 0);
  startOriginHealthTimer(env, platform.originHealth, config.healthCheckIntervalMs, (line) => console.log(JSON.stringify(line)));
  const table = [...servedRoutes(config), ...pools];
  const targets = serviceTargets().filter((target) => config.upstreams[target.binding]);
  const app = createServiceApp<GatewayBindings>({ service: 'gateway', early: [corsPolicy] });
  app.use(servedByHeader);
  addHealthRoutes(app, (c) => serviceChecks(c, targets), (c) => gatewayConfig(c.env).READY_TIMEOUT_MS);
  addRouteTable(app, table);

  return {
    config,
    routes: table,
    fetch(request, peerAddress) {
      const headers = new Headers(request.headers);
      const client = peerAddress && clientAddress(peerAddress, headers.get('x-forwarded-for'), config.trustedProxies);
      // Read, then dropped: what a client wrote in these is its own claim, and services must not
      // take it for the edge's word.
      for (const name of [...headers.keys()]) if (CLIENT_FORWARDING_HEADER.test(name)) headers.delete(name);
      if (client) headers.set('cf-connecting-ip', client);
      else headers.delete('cf-connecting-ip');
      return Promise.resolve(app.fetch(new Request(request, { headers }), env));
    },
  };
}
