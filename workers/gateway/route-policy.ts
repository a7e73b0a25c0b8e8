import { DEFAULT_BREAKER_OPTIONS, type CircuitBreakerOptions } from '../../shared/resilience/circuit-breaker';
import type { BulkheadOptions } from '../../shared/resilience/bulkhead';
import { DEFAULT_RETRY_OPTIONS, type RetryOptions } from '../../shared/resilience/retry';
import type { FallbackRule } from './resilience/fallback-rules';
import type { RouteBase, RoutePolicy } from './routes';

/** A route's resilience policy with every default filled in: what the proxy runs. */
export interface ResolvedPolicy {
  timeoutMs: number;
  retry: RetryOptions | false;
  breaker: CircuitBreakerOptions | false;
  bulkhead: BulkheadOptions;
  fallback: FallbackRule[];
}

/** What a deployment may override per route (`ROUTE_POLICIES`); fallbacks are code, not config. */
export type PolicyOverride = Pick<RoutePolicy, 'timeoutMs' | 'retry' | 'breaker' | 'bulkhead'>;

export const DEFAULT_TIMEOUT_MS = 10_000;
export const DEFAULT_BULKHEAD: BulkheadOptions = { maxConcurrent: 64, maxQueue: 64 };

/** Defaults, then the route table's values, then the deployment's overrides, field by field. */
export function resolvePolicy(route: RouteBase, override: PolicyOverride = {}): ResolvedPolicy {
  const { policy } = route;
  const retry = override.retry ?? policy.retry;
  const breaker = override.breaker ?? policy.breaker;
  return {
    timeoutMs: override.timeoutMs ?? policy.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    retry: retry === false ? false : { ...DEFAULT_RETRY_OPTIONS, ...(policy.retry || {}), ...(retry ?? {}) },
    breaker: breaker === false ? false : { ...DEFAULT_BREAKER_OPTIONS, ...(policy.breaker || {}), ...breaker },
    bulkhead: { ...DEFAULT_BULKHEAD, ...policy.bulkhead, ...override.bulkhead },
    fallback: policy.fallback ?? [],
  };
}
