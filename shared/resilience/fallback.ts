import { fullContext, type Call, type CallContext, type Policy } from './policy';

/** What the protected call came to: an error it threw, or a result judged a failure. */
export type FallbackCause<R> = { error: unknown } | { result: R };

export interface FallbackOptions<R> {
  /** Whether a returned result is a failure worth replacing (for HTTP: a 5xx). */
  isFailure?: (result: R) => boolean;
  /**
   * The answer to give instead, or undefined when there is none: then the original error is
   * thrown, or the original result returned, as if there were no fallback.
   */
  handler: (cause: FallbackCause<R>) => R | undefined | Promise<R | undefined>;
  /** Releases a failed result that the fallback replaces (a Response's unread body, say). */
  discard?: (result: R) => void;
}

/**
 * Answers in place of a failed call (cockatiel's `fallback`), as the outermost policy, so it
 * covers every way the inner ones fail: a refused breaker, a full bulkhead, a deadline, a
 * network error or, when `isFailure` says so, an error answer.
 *
 * The policy is typed for one result type `R` (a Response, for the gateway); `Policy.execute` is
 * generic, so the call's `T` is asserted to be `R` where they meet.
 */
export function fallback<R>(options: FallbackOptions<R>): Policy {
  return {
    async execute<T>(call: Call<T>, context?: Partial<CallContext>): Promise<T> {
      let result: R;
      try {
        result = (await call(fullContext(context))) as unknown as R;
      } catch (error) {
        const instead = await options.handler({ error });
        if (instead === undefined) throw error;
        return instead as unknown as T;
      }
      if (!options.isFailure?.(result)) return result as unknown as T;
      const instead = await options.handler({ result });
      if (instead === undefined) return result as unknown as T;
      options.discard?.(result);
      return instead as unknown as T;
    },
  };
}
