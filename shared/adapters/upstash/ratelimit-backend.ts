import { Ratelimit } from '@upstash/ratelimit';
import { Redis } from '@upstash/redis/cloudflare';
import { assertPolicy, policyFingerprint, type DecideOptions, type RateLimitBackend, type RateLimitDecision, type RateLimitPolicy } from '../../ratelimit/policy';

/**
 * Rate limits in Upstash Redis through @upstash/ratelimit: one count per key for every location
 * and isolate (the Durable Object backend is exact too, but each key's object lives in one place,
 * which is close to the first caller; Redis is where the operator put it). Web-standard: the
 * `@upstash/redis/cloudflare` build is fetch only, and runs on workerd and Node alike.
 *
 * Our policy mapped onto its algorithms (both run as one Lua script per decision, so concurrent
 * decisions for one key are serialised by Redis and exact):
 * - `sliding-window` → `Ratelimit.slidingWindow(limit, windowMs)`: the same weighted two-window
 *   count as shared/ratelimit/sliding-window.ts, so both backends admit the same requests. Its
 *   `reset` is the end of the current fixed window; for a refused request (or none remaining)
 *   `retryAfterMs` is that too. That is an estimate: the exact moment (which the pure algorithm
 *   computes) needs both windows' counts, and reading them would cost a second Redis command on
 *   every refusal, i.e. double the bill exactly while someone floods us.
 * - `token-bucket` → `Ratelimit.tokenBucket(limit / g, windowMs / g, limit)` with
 *   g = gcd(limit, windowMs): Upstash refills `refillRate` whole tokens per `interval`, so the
 *   finest grain with our average rate. When `limit` divides `windowMs` that is one token every
 *   `windowMs / limit` ms, which is exactly our continuous refill counted in whole tokens, with
 *   one difference: a bucket that sat full keeps its refill phase in Upstash (the next token after
 *   a take may come up to one interval sooner), where ours restarts it. Otherwise refills come in
 *   coarser lumps (3 per 10 s rather than one every 3.3 s).
 *
 * Its `remaining` and `reset` (an epoch time in ms) become our `remaining` and `resetMs`.
 */

export interface UpstashRateLimitOptions {
  /** UPSTASH_REDIS_REST_URL */
  url: string;
  /** UPSTASH_REDIS_REST_TOKEN */
  token: string;
  /** A decision not answered within this long fails (the caller decides what that means). Default 1000. */
  timeoutMs?: number;
  /** Redis key prefix. Default `stratus:ratelimit`. */
  prefix?: string;
}

const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b));

/** Raised when Upstash could not answer; the message says why, the cause is the client's error. */
export class UpstashRateLimitError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'UpstashRateLimitError';
  }
}

export class UpstashRateLimitBackend implements RateLimitBackend {
  readonly name = 'upstash';
  private readonly redis: Redis;
  private readonly limiters = new Map<string, Ratelimit>();
  private readonly prefix: string;
  private readonly timeoutMs: number;

  constructor(options: UpstashRateLimitOptions) {
    this.timeoutMs = options.timeoutMs ?? 1_000;
    this.prefix = options.prefix ?? 'stratus:ratelimit';
    this.redis = new Redis({
      url: options.url,
      token: options.token,
      // Off: auto-pipelining batches the commands issued in one tick into one shared pipeline
      // whose promise every caller awaits. On workerd, concurrent requests share the isolate, so
      // one request would await a fetch another request started; that is cross-request I/O, which
      // workerd refuses (or leaves hanging when the other request ends first). One fetch per
      // command, made by the request that needs it, keeps every promise inside its own request.
      enableAutoPipelining: false,
      // A fresh deadline per command, as a function: the fetch is really aborted, and the client
      // throws instead of turning an aborted fetch into a made-up result (what it does with a
      // plain AbortSignal).
      signal: () => AbortSignal.timeout(this.timeoutMs),
      // No retry: a decision is not idempotent. The client retries on any network error,
      // including one after Redis ran the script and only the answer was lost, and a second run
      // counts the request a second time (the limit gets stricter after every blip). The script
      // has no request id to dedupe by (it is @upstash/ratelimit's), so a failed call stays
      // failed and the route's failure mode (fail open or closed) decides, as for a timeout.
      // `retries: 0`, not `retry: false`: @upstash/redis 1.39 turns `false` into one attempt
      // plus one retry (its loop runs `i <= attempts` with attempts 1).
      retry: { retries: 0 },
      enableTelemetry: false,
    });
  }

  private limiter(policy: RateLimitPolicy): Ratelimit {
    const fingerprint = policyFingerprint(policy);
    let limiter = this.limiters.get(fingerprint);
    if (!limiter) {
      const { limit, windowMs } = policy;
      const g = gcd(limit, windowMs);
      limiter = new Ratelimit({
        redis: this.redis,
        limiter:
          policy.algorithm === 'sliding-window'
            ? Ratelimit.slidingWindow(limit, `${windowMs} ms`)
            : Ratelimit.tokenBucket(limit / g, `${windowMs / g} ms`, limit),
        // The policy is in the prefix: a deploy that changes it starts every key afresh instead of
        // reading state made under other numbers.
        prefix: `${this.prefix}:${fingerprint}`,
        // Off: the ephemeral cache refuses a key locally until `reset` once Redis refused it. For
        // the sliding window `reset` is the window's end while the real count may free up sooner,
        // so the cache is stricter than Redis, and the two backends would no longer agree.
        ephemeralCache: false,
        // Off: on a timeout Ratelimit answers `success: true` with made-up numbers; our own
        // deadline (the signal above) makes the call fail instead, and the caller decides.
        timeout: 0,
        analytics: false,
      });
      this.limiters.set(fingerprint, limiter);
    }
    return limiter;
  }

  async decide(key: string, policy: RateLimitPolicy, options: DecideOptions = {}): Promise<RateLimitDecision> {
    assertPolicy(policy);
    const limiter = this.limiter(policy);
    const now = Date.now();
    const cost = options.cost ?? 1;
    let result: Awaited<ReturnType<Ratelimit['limit']>>;
    try {
      if (cost === 0) {
        // A look: what remains, counting nothing (one read, no script run).
        const left = await limiter.getRemaining(key);
        const resetMs = Math.max(0, left.reset - now);
        return { allowed: left.remaining >= 1, limit: left.limit, remaining: left.remaining, resetMs, retryAfterMs: left.remaining >= 1 ? 0 : Math.max(1, resetMs) };
      }
      result = await limiter.limit(key, cost === 1 ? undefined : { rate: cost });
    } catch (error) {
      throw new UpstashRateLimitError(`Upstash Redis did not answer the rate-limit decision: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
    }
    if (result.reason === 'timeout') throw new UpstashRateLimitError(`Upstash Redis did not answer within ${this.timeoutMs} ms`);
    const resetMs = Math.max(0, result.reset - now);
    const mustWait = !result.success || result.remaining < 1;
    return {
      allowed: result.success,
      limit: result.limit,
      remaining: result.remaining,
      resetMs,
      retryAfterMs: mustWait ? Math.max(1, resetMs) : 0,
    };
  }
}

/**
 * One backend per configuration per isolate (module scope lives as long as the isolate): the
 * clients hold no I/O object between requests (each command is its own fetch), so sharing them
 * across requests is safe on workerd.
 */
const backends = new Map<string, UpstashRateLimitBackend>();

export function upstashRateLimitBackend(options: UpstashRateLimitOptions): UpstashRateLimitBackend {
  const id = JSON.stringify([options.url, options.token, options.timeoutMs ?? null, options.prefix ?? null]);
  let backend = backends.get(id);
  if (!backend) {
    backend = new UpstashRateLimitBackend(options);
    backends.set(id, backend);
  }
  return backend;
}
