import type { Identity } from '../../shared/http/identity';
import { SERVICE_TOKEN_HEADER, type ServiceClaims } from '../../shared/security/service-token';
import { serviceTokenHeader } from './auth/service-tokens';
import type { GatewayBindings } from './env';
import { perIsolate } from './per-isolate';
import { platformOf, type ServiceTransport } from './platform';
import { upstreamGuard, type UpstreamGuard } from './resilience/upstream-guard';
import { forwardedPrefixHeaders, routeLabel, serviceName, type Route } from './routes';
import { routeLimiter, type RouteLimiter } from './traffic/rate-limit';
import { routeUpstream, type Upstream } from './traffic/route-versions';

/**
 * What signs the service token of one call: the seam between the pipeline and how tokens are
 * made (auth/service-tokens.ts), so a cache of signed tokens can sit behind it unseen.
 */
export interface ServiceTokenSource {
  /**
   * The header's value for a call to `service` made for `identity`. No request id: a token is
   * reused across requests (auth/service-tokens.ts); the request travels in x-request-id and traceparent.
   */
  token(call: { service: string; identity: Identity | null; scope?: ServiceClaims['scope']; flags?: string[] }): Promise<string>;
}

/** One upstream of a route, resolved: its breaker's name, its transport and its guard. */
export interface ResolvedUpstream {
  upstream: Upstream;
  transport: ServiceTransport;
  guard: UpstreamGuard;
}

/**
 * One route's machinery in one isolate and configuration, resolved once (per env object:
 * per-isolate.ts) instead of looked up piece by piece on every request: the policy with the
 * deployment's ROUTE_POLICIES overrides applied, the rate limiter, the service-token signer, and
 * per upstream (each canary version's binding) its transport and guard (timeout, retry, bulkhead,
 * breaker client, fallbacks). Which version serves a request is the caller's (sticky, from the
 * weights each isolate caches: traffic/route-versions.ts `chooseVersion`); the pipeline holds
 * what each version's call runs through. The per-request path (route-table.ts, then proxy.ts)
 * reads this object top to bottom and never goes back to the route table or the config.
 */
export class RoutePipeline {
  /** The `route` label of logs and metrics (`/api/catalog/*`). */
  readonly label: string;
  /** The origin of its upstream URLs; never resolved (a binding delivers to its worker regardless). */
  readonly origin: string;
  /** The audience of its service tokens (`catalog`). */
  readonly audience: string;
  /** `x-forwarded-prefix` and friends: the same for every request of the route. */
  readonly forwardedHeaders: readonly (readonly [string, string])[];
  /** Null when the route has no rate limit (or ROUTE_POLICIES turns it off). */
  readonly limiter: RouteLimiter | null;
  readonly tokens: ServiceTokenSource;
  private readonly upstreams = new Map<string | undefined, ResolvedUpstream>();

  constructor(
    readonly route: Route,
    private readonly env: GatewayBindings,
  ) {
    this.label = routeLabel(route);
    this.origin = `https://${route.name}.internal`;
    this.audience = serviceName(route);
    this.forwardedHeaders = Object.entries(forwardedPrefixHeaders(route));
    this.limiter = routeLimiter(env, route);
    this.tokens = serviceTokenSource(env);
  }

  /** The upstream that serves `version` (the route's own without one), resolved on first use. */
  upstream(version?: string): ResolvedUpstream {
    let resolved = this.upstreams.get(version);
    if (!resolved) {
      const upstream = routeUpstream(this.route, version);
      resolved = { upstream, transport: platformOf(this.env).service(upstream.service), guard: upstreamGuard(this.env, this.route, version) };
      this.upstreams.set(version, resolved);
    }
    return resolved;
  }
}

/** The service-token signer of this configuration (auth/service-tokens.ts), as the pipeline's seam. */
function serviceTokenSource(env: GatewayBindings): ServiceTokenSource {
  return { token: async (call) => (await serviceTokenHeader(env, call))[SERVICE_TOKEN_HEADER]! };
}

/** A route's pipeline in this isolate and configuration: built on its first request, then kept. */
export const routePipeline: (env: GatewayBindings, route: Route) => RoutePipeline = perIsolate((env, route: Route) => new RoutePipeline(route, env));
