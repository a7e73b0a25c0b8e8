import { LeasedRateLimitBackend } from '../../shared/ratelimit/leased-backend';
import type { RateLimitBackend } from '../../shared/ratelimit/policy';
import type { BreakerAuthority } from '../../shared/resilience/breaker-authority';
import { upstashRateLimitBackend } from '../../shared/adapters/upstash/ratelimit-backend';
import { gatewayConfig } from './config';
import type { GatewayBindings, ServiceBindings } from './env';
import type { RateLimiter } from './traffic/rate-limiter-object';
import type { OriginHealthStore } from './traffic/origin-health';

/** How the gateway reaches one service: a service binding on Cloudflare, HTTP to a base URL elsewhere. */
export interface ServiceTransport {
  fetch(request: Request): Promise<Response>;
}

/**
 * What the gateway's routing and policy code needs from the platform it runs on, and nothing
 * more: the seam between the route table, auth, rate limiting and the upstream guard (the same
 * code everywhere) and where their state and traffic go. On Cloudflare it is built from the
 * bindings (`cloudflarePlatform`); the Bun and Deno entry points (runtimes/) inject their own
 * under the `PLATFORM` symbol of their env: HTTP upstreams, and memory or Upstash state.
 */
export interface GatewayPlatform {
  /** Shown in logs: `cloudflare`, `bun`, `deno`. */
  readonly name: string;
  /** The transport to a service. Called per request: keep it cheap and return the same object each time. */
  service(binding: keyof ServiceBindings): ServiceTransport;
  /** Where rate-limit decisions are made (traffic/rate-limit.ts). */
  readonly rateLimits: RateLimitBackend;
  /**
   * The source of truth of one upstream's circuit breaker, by its name (`catalog`, `catalog@v2`).
   * Called for every exchange with it (a Durable Object stub belongs to the request that made it).
   */
  breakerAuthority(upstream: string): BreakerAuthority;
  /** Where HTTP origins' health checks are kept for every isolate (traffic/origin-health.ts). */
  readonly originHealth: OriginHealthStore;
}

/** How long a rate-limit decision may take before the request goes ahead without one (fail open). */
export const DECISION_DEADLINE_MS = 1_000;

/**
 * The default rate-limit backend on Cloudflare: a RateLimiter Durable Object per (route, key), the
 * exact authority, asked for slices of the key's allowance that this isolate then spends itself
 * (shared/ratelimit/lease.ts): no object call per request on a hot key, one per slice.
 * A slice request waits at most a little less than the gateway's decision deadline, so a waiter
 * gives up (and leaves the queue) before rate-limit.ts stops waiting for it.
 */
export function durableObjectBackend(namespace: DurableObjectNamespace<RateLimiter>): RateLimitBackend {
  return new LeasedRateLimitBackend({
    name: 'durable-object',
    deadlineMs: DECISION_DEADLINE_MS - 50,
    authority: (key) => namespace.get(namespace.idFromName(key)),
  });
}

/** Upstash Redis when UPSTASH_REDIS_REST_URL is set, else the RateLimiter Durable Objects. */
function cloudflareRateLimits(env: GatewayBindings): RateLimitBackend {
  const config = gatewayConfig(env);
  if (config.UPSTASH_REDIS_REST_URL && config.UPSTASH_REDIS_REST_TOKEN) {
    return upstashRateLimitBackend({ url: config.UPSTASH_REDIS_REST_URL, token: config.UPSTASH_REDIS_REST_TOKEN, timeoutMs: DECISION_DEADLINE_MS });
  }
  return durableObjectBackend(env.RATE_LIMITER);
}

/** The Cloudflare platform: service bindings, and Durable Objects (or Upstash) for state. */
export function cloudflarePlatform(env: GatewayBindings): GatewayPlatform {
  const namespace = env.BREAKERS;
  return {
    name: 'cloudflare',
    service: (binding) => env[binding],
    rateLimits: cloudflareRateLimits(env),
    // The stub's RPC methods have the authority's signatures; its generated type only adds RPC plumbing.
    breakerAuthority: (upstream) => namespace.get(namespace.idFromName(upstream)) as unknown as BreakerAuthority,
    // One registry object; a stub belongs to the request that made it, so one per call.
    originHealth: {
      read: () => env.ORIGIN_HEALTH.get(env.ORIGIN_HEALTH.idFromName('registry')).read(),
      replace: (snapshot) => env.ORIGIN_HEALTH.get(env.ORIGIN_HEALTH.idFromName('registry')).replace(snapshot),
    },
  };
}

/**
 * The key of an injected platform in the env (runtimes/gateway-app.ts). A symbol, not a name: a
 * variable is a string key (a `PLATFORM` var in wrangler.toml, .dev.vars or the shell), so none can
 * ever be taken for the platform. `Symbol.for`: one key even if this module were loaded twice.
 */
export const PLATFORM: unique symbol = Symbol.for('stratus.gateway.platform');

/** An env that may carry an injected platform (the Bun and Deno entry points'). */
export type WithPlatform<Env> = Env & { [PLATFORM]?: GatewayPlatform };

/** One platform per environment object: workerd hands an isolate the same `env` on every request. */
const platforms = new WeakMap<GatewayBindings, GatewayPlatform>();

/** The platform this environment runs on: the injected one (Bun, Deno), else Cloudflare's from the bindings. */
export function platformOf(env: WithPlatform<GatewayBindings>): GatewayPlatform {
  const injected = env[PLATFORM];
  if (injected) return injected;
  let platform = platforms.get(env);
  if (!platform) {
    platform = cloudflarePlatform(env);
    platforms.set(env, platform);
  }
  return platform;
}
