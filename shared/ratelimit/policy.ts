/**
 * Rate limiting: the policy a route names, the decision a backend answers with, and the one
 * interface every backend implements (a Durable Object per key, Upstash Redis, memory).
 *
 * Why not hono-rate-limiter / @hono-rate-limiter/cloudflare (read at 0.5.4 / 0.2.2): their
 * `Store` is `increment(key) → { totalHits, resetTime }`, a fixed-window counter, so neither a
 * token bucket nor the two-window weighted sliding window fits behind it; their headers are
 * draft-6 (`RateLimit-Limit`/`-Remaining`/`-Reset`) or draft-7 (`RateLimit: limit=, remaining=,
 * reset=`), not the structured-field form of draft-08 and later; they set headers with
 * `c.header` before `next()`, which a thrown error's problem+json does not keep; their Durable
 * Object store awaits storage before deciding and resets by alarm (fixed window again); and the
 * Workers rate-limiting binding they wrap is approximate and per Cloudflare location, not exact.
 * So the algorithms are here, pure, and the backends are thin shells around them.
 */

export type RateLimitAlgorithm = 'token-bucket' | 'sliding-window';

export interface RateLimitPolicy {
  /**
   * - `token-bucket`: a bucket of `limit` tokens, refilled continuously at `limit` per `windowMs`;
   *   a request takes one. Allows a burst of `limit`, then a steady `limit / windowMs`.
   * - `sliding-window`: @upstash/ratelimit's two-fixed-windows weighted counter: the current
   *   window's count plus the previous window's, weighted by how much of it still overlaps the
   *   sliding window, must stay within `limit`.
   */
  algorithm: RateLimitAlgorithm;
  /** Requests per window (the bucket's capacity); a positive integer. */
  limit: number;
  /** The window, in milliseconds; a positive integer. */
  windowMs: number;
}

/** What a backend answers for one request. Times are relative to the decision, in milliseconds. */
export interface RateLimitDecision {
  allowed: boolean;
  limit: number;
  /** Requests that would still be admitted right after this one (0 when refused). */
  remaining: number;
  /**
   * Until more quota is made available: the next whole token (token bucket; 0 when full), or
   * the end of the current fixed window (sliding window), as @upstash/ratelimit's `reset` says.
   */
  resetMs: number;
  /**
   * Until a request of the same cost would be admitted: 0 when one would be now; `Infinity`
   * when none ever would (its cost is above the limit).
   */
  retryAfterMs: number;
}

/** A decision with the state it leaves behind: what the pure algorithms return. */
export interface RateLimitStep<State> extends RateLimitDecision {
  state: State;
}

export interface DecideOptions {
  /**
   * Units this request counts for (default 1): a BFF screen counts the upstream calls it makes.
   * 0 only looks: whether one more would be admitted, counting nothing.
   */
  cost?: number;
  /** Keeps background work (a lease renewed or given back) alive after the response; workerd's `ctx.waitUntil`. */
  waitUntil?: (work: Promise<unknown>) => void;
}

/** One place that decides: exact per key, or as exact as the backend documents. */
export interface RateLimitBackend {
  /** For logs: `durable-object`, `upstash`, `memory`. */
  readonly name: string;
  /**
   * Counts one request (`cost` units) against `key` under `policy`; rejects (or throws) when the
   * backend cannot answer. A backend that decided without waiting on anything may return the
   * decision itself rather than a promise: the hot path then sets no deadline timer for it.
   */
  decide(key: string, policy: RateLimitPolicy, options?: DecideOptions): RateLimitDecision | Promise<RateLimitDecision>;
}

/** Throws unless the policy is one the algorithms can run (integers, positive). */
export function assertPolicy(policy: RateLimitPolicy): void {
  if (policy.algorithm !== 'token-bucket' && policy.algorithm !== 'sliding-window') {
    throw new RangeError(`unknown rate-limit algorithm: ${String(policy.algorithm)}`);
  }
  if (!Number.isSafeInteger(policy.limit) || policy.limit < 1) throw new RangeError(`rate-limit limit must be a positive integer, got ${policy.limit}`);
  if (!Number.isSafeInteger(policy.windowMs) || policy.windowMs < 1) throw new RangeError(`rate-limit windowMs must be a positive integer, got ${policy.windowMs}`);
  if (!Number.isSafeInteger(policy.limit * policy.windowMs)) throw new RangeError('rate-limit limit × windowMs is too large to count exactly');
}

/** Identifies a policy's parameters: state made under one policy is never read under another. */
export const policyFingerprint = (policy: RateLimitPolicy): string => `${policy.algorithm}:${policy.limit}:${policy.windowMs}`;

/** A decision without its state (what crosses RPC and the backend interface). */
export function decisionOf<State>(step: RateLimitStep<State>): RateLimitDecision {
  return { allowed: step.allowed, limit: step.limit, remaining: step.remaining, resetMs: step.resetMs, retryAfterMs: step.retryAfterMs };
}
