import type { RateLimitPolicy, RateLimitStep } from './policy';

/**
 * Token bucket, as a pure function: `(state, now, cost) → decision + next state`, no timers, no
 * I/O. Capacity `limit` tokens, refilled continuously at `limit` per `windowMs`.
 *
 * The level is kept in token-milliseconds (tokens × windowMs), so a refill of `elapsed` ms adds
 * exactly `elapsed × limit` and every quantity is an integer: no float drift, and "when does the
 * next token arrive" is an exact ceiling division. Times are integer milliseconds (Date.now).
 */
export interface TokenBucketState {
  /** Tokens × windowMs, between 0 and limit × windowMs. */
  level: number;
  /** When `level` was last brought up to date. */
  at: number;
}

const ceilDiv = (a: number, b: number) => Math.ceil(a / b);

/** The bucket at `now`: a fresh one is full; a clock that went backwards refills nothing. */
function refilled(policy: RateLimitPolicy, state: TokenBucketState | undefined, now: number): TokenBucketState {
  const capacity = policy.limit * policy.windowMs;
  if (!state) return { level: capacity, at: now };
  const at = Math.max(state.at, now);
  return { level: Math.min(capacity, state.level + (at - state.at) * policy.limit), at };
}

/** Milliseconds until a level reaches `need` token-ms; Infinity when the bucket cannot hold it. */
function waitFor(policy: RateLimitPolicy, level: number, need: number): number {
  if (level >= need) return 0;
  if (need > policy.limit * policy.windowMs) return Number.POSITIVE_INFINITY;
  return ceilDiv(need - level, policy.limit);
}

export function tokenBucket(
  policy: RateLimitPolicy,
  state: TokenBucketState | undefined,
  now: number,
  cost = 1,
): RateLimitStep<TokenBucketState> {
  const t = Math.floor(now);
  const bucket = refilled(policy, state, t);
  const need = cost * policy.windowMs;
  const allowed = bucket.level >= need;
  const level = allowed ? bucket.level - need : bucket.level;
  const whole = Math.floor(level / policy.windowMs);
  const full = whole >= policy.limit;
  // Relative to the caller's `now`, even when the state is ahead of it (a clock that went back):
  // until `bucket.at` nothing refills, so a wait starts there.
  const fromNow = (wait: number) => (wait === 0 ? 0 : bucket.at - t + wait);
  return {
    allowed,
    limit: policy.limit,
    remaining: whole,
    resetMs: full ? 0 : fromNow(waitFor(policy, level, (whole + 1) * policy.windowMs)),
    retryAfterMs: fromNow(waitFor(policy, level, need)),
    state: { level, at: bucket.at },
  };
}
