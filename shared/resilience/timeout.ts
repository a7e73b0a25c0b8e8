import { fullContext, mayAbort, type Call, type CallContext, type Policy } from './policy';

/** Marker property, not a class check: it survives bundling and RPC (see http/problem.ts). */
export interface TimeoutError extends Error {
  isTimeoutError: true;
  timeoutMs: number;
}

export const isTimeoutError = (error: unknown): error is TimeoutError =>
  typeof error === 'object' && error !== null && (error as { isTimeoutError?: unknown }).isTimeoutError === true;

function timeoutError(timeoutMs: number): TimeoutError {
  return Object.assign(new Error(`no answer within ${timeoutMs} ms`), { name: 'TimeoutError', isTimeoutError: true as const, timeoutMs });
}

/**
 * Gives the call `timeoutMs` and then aborts it: the call's signal fires, so a fetch made with
 * it is really cancelled (not merely ignored), and the caller gets a TimeoutError at once.
 */
export function timeout(timeoutMs: number): Policy {
  return {
    async execute<T>(call: Call<T>, context?: Partial<CallContext>): Promise<T> {
      const outer = fullContext(context);
      const controller = new AbortController();
      // Only a signal someone can abort is worth a listener (most callers give none).
      const signal = mayAbort(outer) ? outer.signal : undefined;
      const onOuterAbort = () => controller.abort(signal?.reason);
      if (signal?.aborted) controller.abort(signal.reason);
      signal?.addEventListener('abort', onOuterAbort, { once: true });
      let timer: ReturnType<typeof setTimeout> | undefined;
      let expiredError: TimeoutError | undefined;
      const expired = new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          expiredError = timeoutError(timeoutMs);
          controller.abort(expiredError);
          reject(expiredError);
        }, timeoutMs);
      });
      try {
        return await Promise.race([call({ signal: controller.signal, attempt: outer.attempt, defer: outer.defer }), expired]);
      } catch (error) {
        // Aborting makes a well-behaved call reject at once with its own AbortError, which can win
        // the race; the caller must still learn that the deadline, not the call, ended it.
        throw expiredError ?? error;
      } finally {
        if (timer !== undefined) clearTimeout(timer);
        signal?.removeEventListener('abort', onOuterAbort);
      }
    },
  };
}
