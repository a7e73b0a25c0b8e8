import { fullContext, type Call, type CallContext, type Policy } from './policy';
import type { RetryBudget } from './retry-budget';

export interface RetryOptions {
  /** Attempts in all, the first included (3 = one call and up to two retries). */
  maxAttempts: number;
  /** The backoff's base: retry n waits up to `baseDelayMs · 2^(n-1)`, ... */
  baseDelayMs: number;
  /** ... but never more than this (Retry-After included). */
  maxDelayMs: number;
}

export const DEFAULT_RETRY_OPTIONS: RetryOptions = { maxAttempts: 3, baseDelayMs: 100, maxDelayMs: 2_000 };

/**
 * Exponential backoff with full jitter (a uniformly random wait up to the exponential cap):
 * clients that failed together do not retry together. `random` is passed in ([0, 1)).
 */
export function backoffDelay(retry: number, options: RetryOptions, random: () => number): number {
  const cap = Math.min(options.maxDelayMs, options.baseDelayMs * 2 ** Math.max(0, retry - 1));
  return Math.floor(random() * cap);
}

/** `Retry-After` in milliseconds from now: delay-seconds or an HTTP-date; null when absent or unreadable. */
export function retryAfterMs(header: string | null | undefined, now: number): number | null {
  if (!header) return null;
  const value = header.trim();
  if (/^\d+$/.test(value)) return Number(value) * 1000;
  // An HTTP-date starts with a day name; without that check, Date.parse reads '0.5' as a year-2000 date.
  if (!/^[A-Za-z]{3}/.test(value)) return null;
  const date = Date.parse(value);
  return Number.isNaN(date) ? null : Math.max(0, date - now);
}

/** RFC 9110 §9.2.2: methods whose repetition has the same effect as one call. */
const IDEMPOTENT_METHODS = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE', 'PUT', 'DELETE']);

/**
 * Only a request that is safe to repeat is retried: an idempotent method, or any method carrying
 * an `Idempotency-Key` (the service answers a repeat with the first result: docs/architecture.md, decision 3).
 */
export const isRetryableRequest = (method: string, headers: Headers): boolean =>
  IDEMPOTENT_METHODS.has(method.toUpperCase()) || headers.has('idempotency-key');

/** Statuses that say "try again later": overload and gateway trouble, not a broken request or a 500. */
export const isRetryableStatus = (status: number): boolean => status === 429 || status === 502 || status === 503 || status === 504;

export interface RetryPolicyOptions extends RetryOptions {
  /** Whether a result (a Response, say) should be retried, and how long it asks us to wait. */
  retryResult?: (result: unknown) => { retry: boolean; afterMs?: number | null };
  /** Whether a thrown error should be retried (network errors and timeouts, typically). */
  retryError?: (error: unknown) => boolean;
  /** Releases a result that is dropped for a retry (a Response's unread body, say). */
  discard?: (result: unknown) => void;
  /** Caps retries to a share of calls, so retries cannot multiply an outage. */
  budget?: RetryBudget;
  random?: () => number;
  now?: () => number;
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
}

const abortableSleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });

/**
 * Runs the call again when its result or error says so, up to `maxAttempts`, waiting a jittered
 * backoff or the upstream's `Retry-After`, whichever is longer. A `Retry-After` beyond `maxDelayMs`
 * ends the retries. The last result or error is what the caller gets when retries run out, the
 * budget says no, or the upstream asked for more patience than we have.
 */
export function retry(options: RetryPolicyOptions): Policy {
  const random = options.random ?? Math.random;
  const now = options.now ?? Date.now;
  const sleep = options.sleep ?? abortableSleep;
  return {
    async execute<T>(call: Call<T>, context?: Partial<CallContext>): Promise<T> {
      const outer = fullContext(context);
      const { signal } = outer;
      options.budget?.recordCall(now());
      for (let attempt = 1; ; attempt++) {
        let outcome: { result: T } | { error: unknown };
        try {
          outcome = { result: await call(attempt === outer.attempt ? outer : { ...outer, attempt }) };
        } catch (error) {
          outcome = { error };
        }
        const verdict = 'result' in outcome ? (options.retryResult?.(outcome.result) ?? { retry: false }) : { retry: options.retryError?.(outcome.error) ?? false };
        const asked = 'afterMs' in verdict ? (verdict.afterMs ?? 0) : 0;
        // An upstream asking for a longer wait than we would ever make is answered as it asked:
        // the caller gets its answer (and its Retry-After), rather than a retry that comes too soon.
        const finished =
          !verdict.retry || attempt >= options.maxAttempts || asked > options.maxDelayMs || signal.aborted || !(options.budget?.tryRetry(now()) ?? true);
        if (finished) {
          if ('result' in outcome) return outcome.result;
          throw outcome.error;
        }
        if ('result' in outcome) options.discard?.(outcome.result);
        await sleep(Math.min(options.maxDelayMs, Math.max(asked, backoffDelay(attempt, options, random))), signal);
      }
    },
  };
}
