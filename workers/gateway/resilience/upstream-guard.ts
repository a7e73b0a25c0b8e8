import { isHttpError } from '../../../shared/http/problem';
import { BreakerClient } from '../../../shared/resilience/breaker-client';
import { circuitBreaker, isBrokenCircuitError } from '../../../shared/resilience/breaker-policy';
import { Bulkhead, isBulkheadRejectedError } from '../../../shared/resilience/bulkhead';
import { fallback, type FallbackCause } from '../../../shared/resilience/fallback';
import { wrap, type Call, type CallContext, type Policy } from '../../../shared/resilience/policy';
import { isRetryableStatus, retry, retryAfterMs } from '../../../shared/resilience/retry';
import { RetryBudget } from '../../../shared/resilience/retry-budget';
import { isTimeoutError, timeout } from '../../../shared/resilience/timeout';
import { gatewayConfig } from '../config';
import type { GatewayBindings } from '../env';
import { RouteFallbacks, type FallbackRequest } from './route-fallbacks';
import { resolvePolicy, type ResolvedPolicy } from '../route-policy';
import { routeUpstream, type Upstream } from '../traffic/route-versions';
import { forwardedPrefixHeaders, serviceName, type Route } from '../routes';
import { perIsolate } from '../per-isolate';
import { platformOf } from '../platform';
import { serviceTokenHeader } from '../auth/service-tokens';

/** For HTTP, a failure is a 5xx; a 4xx is the caller's mistake and says nothing of the upstream. */
export const isServerError = (response: Response) => response.status >= 500;

/** Errors worth another attempt: the network's, not a refusal by our own policies. */
export const isRetryableError = (error: unknown) =>
  !isBrokenCircuitError(error) && !isBulkheadRejectedError(error) && !isTimeoutError(error) && !isHttpError(error);

export const discardBody = (result: unknown) => void (result as Response).body?.cancel().catch(() => undefined);

/**
 * One route's resilience in one isolate, built once and kept for the isolate's life: its breaker
 * client (the cached view of the route's breaker authority: a `CircuitBreaker` Durable Object on
 * Cloudflare, platform.ts), bulkhead, retry budget
 * and fallbacks. Calls compose as
 *
 *   fallback → timeout → retry → bulkhead → breaker → fetch
 *
 * so the deadline bounds the whole call, retries included; each attempt takes a bulkhead slot
 * (none while it waits to retry) and asks the breaker; and the fallback covers every failure
 * beneath it. Requests that are not safe to repeat skip the retry layer.
 */
export class UpstreamGuard {
  readonly policy: ResolvedPolicy;
  /** Null when the route turns its breaker off. */
  readonly breaker: BreakerClient | null;
  readonly bulkhead: Bulkhead;
  readonly fallbacks: RouteFallbacks;
  private readonly retrying: Policy;
  private readonly once: Policy;

  constructor(route: Route, env: GatewayBindings, upstream: Upstream = routeUpstream(route)) {
    const config = gatewayConfig(env);
    this.policy = resolvePolicy(route, config.ROUTE_POLICIES[route.name]);
    const { policy } = this;
    const platform = platformOf(env);
    const breakerOptions = policy.breaker;
    this.breaker =
      breakerOptions === false
        ? null
        : new BreakerClient({
            breaker: breakerOptions,
            authority: () => platform.breakerAuthority(upstream.name),
            reportIntervalMs: config.BREAKER_REPORT_INTERVAL_MS,
          });
    this.bulkhead = new Bulkhead(policy.bulkhead);
    const service = platform.service(upstream.service);
    this.fallbacks = new RouteFallbacks(policy.fallback, async (path) => {
      // A background refresh, for no one in particular: anonymous.
      const token = await serviceTokenHeader(env, { service: serviceName(route), identity: null });
      const headers = { ...forwardedPrefixHeaders(route), ...token };
      return service.fetch(new Request(new URL(path, `https://${route.name}.internal`), { headers, signal: AbortSignal.timeout(policy.timeoutMs) }));
    });
    const deadline = timeout(policy.timeoutMs);
    const breaker = this.breaker ? [circuitBreaker(this.breaker, { isFailure: (result) => isServerError(result as Response) })] : [];
    this.once = wrap(deadline, this.bulkhead, ...breaker);
    this.retrying =
      policy.retry === false
        ? this.once
        : wrap(
            deadline,
            retry({
              ...policy.retry,
              budget: new RetryBudget(),
              retryResult: (result) => {
                const response = result as Response;
                return { retry: isRetryableStatus(response.status), afterMs: retryAfterMs(response.headers.get('retry-after'), Date.now()) };
              },
              retryError: isRetryableError,
              discard: discardBody,
            }),
            this.bulkhead,
            ...breaker,
          );
  }

  /**
   * Runs `send` under the route's policies. `repeatable`: the request may be sent again (an
   * idempotent method, or an Idempotency-Key). Fallbacks answer failed GETs when the route has any.
   */
  execute(send: Call<Response>, options: { repeatable: boolean; defer: CallContext['defer']; request: FallbackRequest }): Promise<Response> {
    const core = options.repeatable ? this.retrying : this.once;
    if (!this.fallbacks.enabled) return core.execute(send, { defer: options.defer });
    const withFallback = wrap(
      fallback<Response>({
        isFailure: isServerError,
        handler: (cause: FallbackCause<Response>) => this.fallbacks.answer(options.request, cause),
        discard: discardBody,
      }),
      core,
    );
    return withFallback.execute(send, { defer: options.defer });
  }
}

/**
 * Guards live per isolate (per-isolate.ts). A versioned route has one guard per upstream
 * (traffic/route-versions.ts): the version on the route's own binding shares the route's guard; every
 * other version has its own breaker, bulkhead and fallbacks.
 */
const routeGuards = perIsolate((_env, _route: Route) => new Map<string, UpstreamGuard>());

export function upstreamGuard(env: GatewayBindings, route: Route, version?: string): UpstreamGuard {
  const byUpstream = routeGuards(env, route);
  const upstream = routeUpstream(route, version);
  let guard = byUpstream.get(upstream.name);
  if (!guard) {
    guard = new UpstreamGuard(route, env, upstream);
    byUpstream.set(upstream.name, guard);
  }
  return guard;
}
