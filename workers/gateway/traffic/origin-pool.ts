import { createBalancer, isHashing } from '../../../shared/routing/balancer-kinds';
import type { LoadBalancer } from '../../../shared/routing/load-balancer';
import { BreakerClient } from '../../../shared/resilience/breaker-client';
import { circuitBreaker, isBrokenCircuitError } from '../../../shared/resilience/breaker-policy';
import { Bulkhead } from '../../../shared/resilience/bulkhead';
import { wrap, type Policy } from '../../../shared/resilience/policy';
import { isRetryableStatus, retry, retryAfterMs } from '../../../shared/resilience/retry';
import { RetryBudget } from '../../../shared/resilience/retry-budget';
import { timeout } from '../../../shared/resilience/timeout';
import { gatewayConfig } from '../config';
import type { GatewayBindings } from '../env';
import { perIsolate } from '../per-isolate';
import { platformOf } from '../platform';
import { discardBody, isRetryableError, isServerError } from '../resilience/upstream-guard';
import { resolvePolicy, type ResolvedPolicy } from '../route-policy';
import { originRoutes, type OriginRoute, type OriginSpec } from '../routes';
import { activelyHealthy, CachedOriginHealth, originKey, type OriginHealthSnapshot, type PoolOrigins } from './origin-health';

/** One origin of a pool in this isolate: its spec, its key (`legacy~monolith`) and its own breaker. */
export interface PoolOrigin extends OriginSpec {
  key: string;
  /** Null when the route turns breakers off. */
  breaker: BreakerClient | null;
  /** The breaker as a policy around one call to this origin (a 5xx or a thrown error is a failure). */
  guarded: Policy | null;
}

/** The origin picked for one attempt, and how to tell the balancers it ended. */
export interface OriginChoice {
  origin: PoolOrigin;
  finish(): void;
}

/** The origins a pool route has in this deployment: `ORIGIN_POOLS`' list for it, else the code's. */
export function poolOrigins(env: GatewayBindings, route: OriginRoute): readonly OriginSpec[] {
  return gatewayConfig(env).ORIGIN_POOLS[route.name] ?? route.pool.origins;
}

/** Every pool route with its origins here: what the health checks visit and /_ops/origins lists. */
export const configuredPools = (env: GatewayBindings, table: readonly OriginRoute[] = originRoutes): PoolOrigins[] =>
  table.map((route) => ({ route, origins: poolOrigins(env, route) }));

/** At most this many balancers over subsets of a pool are kept (a pool has a handful of origins; 2^n subsets). */
const MAX_SUBSET_BALANCERS = 64;

/**
 * One pool route's machinery in one isolate: its origins, each with its own circuit breaker
 * (passive health; the shared breaker machinery, one `CircuitBreaker` authority per origin), the
 * route's balancer (shared/routing, by `pool.balancer`), the cached view of the health registry
 * (active health), and the route-level policies every attempt runs under:
 *
 *   timeout → retry → bulkhead → [pick a healthy origin → its breaker → fetch]
 *
 * so the deadline bounds the whole call, a retry picks again (another origin when one is left that
 * was not tried), and an origin's breaker sees only that origin's outcomes.
 *
 * An origin is picked only while it is healthy: its breaker does not refuse calls (closed, or its
 * open period is over so a probe may go) and its last health check did not fail. The balancer is
 * asked first over every origin, so a healthy pool is balanced exactly as the balancer promises
 * (smooth-weighted: each origin `weight` times in every `Σweight` picks); when it names an
 * unhealthy origin, a balancer of the same kind over the healthy ones decides (the hashing ones
 * then move only the keys of the origin that is out).
 */
export class OriginPool {
  readonly origins: readonly PoolOrigin[];
  readonly policy: ResolvedPolicy;
  readonly health: CachedOriginHealth;
  readonly hashing: boolean;
  private readonly all: LoadBalancer<PoolOrigin> | null;
  private readonly subsets = new Map<string, LoadBalancer<PoolOrigin>>();
  private readonly retrying: Policy;
  private readonly once: Policy;

  constructor(
    readonly route: OriginRoute,
    env: GatewayBindings,
  ) {
    const config = gatewayConfig(env);
    this.policy = resolvePolicy(route, config.ROUTE_POLICIES[route.name]);
    const platform = platformOf(env);
    const breakerOptions = this.policy.breaker;
    this.origins = poolOrigins(env, route).map((spec) => {
      const key = originKey(route.name, spec.name);
      const breaker =
        breakerOptions === false
          ? null
          : new BreakerClient({ breaker: breakerOptions, authority: () => platform.breakerAuthority(key), reportIntervalMs: config.BREAKER_REPORT_INTERVAL_MS });
      return { ...spec, key, breaker, guarded: breaker ? circuitBreaker(breaker, { isFailure: (result) => isServerError(result as Response) }) : null };
    });
    this.hashing = isHashing(route.pool.balancer);
    this.all = this.origins.length > 0 ? createBalancer(route.pool.balancer, this.origins) : null;
    this.health = new CachedOriginHealth({ store: () => platform.originHealth, refreshMs: config.ORIGIN_HEALTH_REFRESH_MS });

    const deadline = timeout(this.policy.timeoutMs);
    const bulkhead = new Bulkhead(this.policy.bulkhead);
    this.once = wrap(deadline, bulkhead);
    this.retrying =
      this.policy.retry === false
        ? this.once
        : wrap(
            deadline,
            retry({
              ...this.policy.retry,
              budget: new RetryBudget(),
              retryResult: (result) => {
                const response = result as Response;
                return { retry: isRetryableStatus(response.status), afterMs: retryAfterMs(response.headers.get('retry-after'), Date.now()) };
              },
              // One origin's open breaker is a reason to try another, unlike a route's own.
              retryError: (error) => isRetryableError(error) || isBrokenCircuitError(error),
              discard: discardBody,
            }),
            bulkhead,
          );
  }

  /** The route-level policies for a request that may (or may not) be sent again. */
  policies(repeatable: boolean): Policy {
    return repeatable ? this.retrying : this.once;
  }

  /** Whether `origin` may get traffic now, by its breaker and the registry's last check. */
  isHealthy(origin: PoolOrigin, snapshot: OriginHealthSnapshot, now: number): boolean {
    return !(origin.breaker?.refusing() ?? false) && activelyHealthy(snapshot[origin.key], now);
  }

  /**
   * The origin for one attempt, or null when none is healthy. `tried`: origins this request already
   * tried; another healthy one is preferred, the same one only when no other is left.
   */
  pick(key: string | undefined, snapshot: OriginHealthSnapshot, tried: ReadonlySet<string>, now: number = Date.now()): OriginChoice | null {
    if (!this.all) return null;
    const healthy = this.origins.filter((origin) => this.isHealthy(origin, snapshot, now));
    if (healthy.length === 0) return null;
    const untried = healthy.filter((origin) => !tried.has(origin.name));
    const candidates = untried.length > 0 ? untried : healthy;
    const all = this.all;
    let chosen = all.pick(key);
    let subset: LoadBalancer<PoolOrigin> | null = null;
    if (!candidates.includes(chosen)) {
      subset = this.subsetBalancer(candidates);
      chosen = subset.pick(key);
    }
    all.onStart?.(chosen);
    subset?.onStart?.(chosen);
    const origin = chosen;
    let finished = false;
    return {
      origin,
      finish: () => {
        if (finished) return;
        finished = true;
        all.onFinish?.(origin);
        subset?.onFinish?.(origin);
      },
    };
  }

  private subsetBalancer(candidates: readonly PoolOrigin[]): LoadBalancer<PoolOrigin> {
    const id = candidates.map((origin) => origin.name).join('\n');
    let balancer = this.subsets.get(id);
    if (!balancer) {
      if (this.subsets.size >= MAX_SUBSET_BALANCERS) this.subsets.clear();
      balancer = createBalancer(this.route.pool.balancer, candidates);
      this.subsets.set(id, balancer);
    }
    return balancer;
  }
}

/** A pool route's machinery in this isolate and configuration: built on its first request, then kept. */
export const originPool: (env: GatewayBindings, route: OriginRoute) => OriginPool = perIsolate((env, route: OriginRoute) => new OriginPool(route, env));
