import type { RateLimitPolicy, RateLimitStep } from './policy';

/**
 * Sliding window, as @upstash/ratelimit 2.2's `slidingWindow` computes it (its single-region Lua
 * script), so the Durable Object and the Upstash backend admit the same requests:
 *
 *   windows are fixed, `floor(now / windowMs)`; at offset `r = now % windowMs` into the current
 *   one, the previous window counts `floor((1 - r / windowMs) × previous)` (the part of it the
 *   sliding window still overlaps); a request is admitted when that plus the current window's
 *   count plus its cost stays within `limit`.
 *
 * The arithmetic is the script's, operation for operation (`(now % window) / window`, then
 * `(1 - p) × previous`, then floor), so even float rounding agrees. One difference: for a cost
 * above 1 the script only checks that the count is below the limit and then adds the whole cost
 * (overshooting); here the cost must fit. The gateway's cost is 1 except on the BFF screens (3 for a
 * signed-in one), where Upstash may overshoot by up to 2.
 */
export interface SlidingWindowState {
  /** Index of the current fixed window: `floor(now / windowMs)`. */
  window: number;
  /** Admitted in the current window (their cost). */
  current: number;
  /** Admitted in the window before it. */
  previous: number;
}

/** The previous window's weight at offset `r`, exactly as the Lua script computes it. */
const weighted = (previous: number, r: number, windowMs: number) => Math.floor((1 - r / windowMs) * previous);

/** The smallest offset in [from, to] where `admits` holds; `admits` must be monotone (false…true). */
function firstAdmitting(from: number, to: number, admits: (r: number) => boolean): number | undefined {
  if (from > to || !admits(to)) return undefined;
  let lo = from;
  let hi = to;
  while (lo < hi) {
    const mid = lo + Math.floor((hi - lo) / 2);
    if (admits(mid)) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/**
 * Milliseconds from offset `r` into window `window` until a request of `cost` is admitted, given
 * nothing else is: later in this window (the previous window's weight only falls as `r` grows),
 * else in the next one (where this window's count becomes the previous), else the one after
 * (where nothing counts).
 */
function retryAfter(policy: RateLimitPolicy, state: SlidingWindowState, r: number, cost: number): number {
  const { limit, windowMs } = policy;
  if (cost > limit) return Number.POSITIVE_INFINITY;
  const here = firstAdmitting(r, windowMs - 1, (at) => weighted(state.previous, at, windowMs) + state.current + cost <= limit);
  if (here !== undefined) return here - r;
  const next = firstAdmitting(0, windowMs - 1, (at) => weighted(state.current, at, windowMs) + cost <= limit);
  if (next !== undefined) return windowMs - r + next;
  return 2 * windowMs - r;
}

export function slidingWindow(
  policy: RateLimitPolicy,
  state: SlidingWindowState | undefined,
  now: number,
  cost = 1,
): RateLimitStep<SlidingWindowState> {
  const { limit, windowMs } = policy;
  let t = Math.floor(now);
  let window = Math.floor(t / windowMs);
  let current = 0;
  let previous = 0;
  if (state) {
    // A clock that went backwards (another machine's) is taken as the start of the state's window.
    if (window < state.window) {
      window = state.window;
      t = window * windowMs;
    }
    if (window === state.window) {
      current = state.current;
      previous = state.previous;
    } else if (window === state.window + 1) {
      previous = state.current;
    }
  }
  const r = t - window * windowMs;
  const counted = weighted(previous, r, windowMs) + current;
  const allowed = counted + cost <= limit;
  if (allowed) current += cost;
  const next: SlidingWindowState = { window, current, previous };
  const lag = t - Math.floor(now);
  return {
    allowed,
    limit,
    remaining: Math.max(0, limit - weighted(previous, r, windowMs) - current),
    resetMs: lag + windowMs - r,
    retryAfterMs: ((wait) => (wait === 0 ? 0 : lag + wait))(retryAfter(policy, next, r, cost)),
    state: next,
  };
}
