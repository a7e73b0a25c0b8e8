import type { BreakerClient, BreakerPermit } from './breaker-client';
import { fullContext, type Call, type CallContext, type Policy } from './policy';

/** Marker property, not a class check: it survives bundling (see http/problem.ts). */
export interface BrokenCircuitError extends Error {
  isBrokenCircuitError: true;
  /** How long until the breaker may let a call through again. */
  retryAfterMs: number;
}

export const isBrokenCircuitError = (error: unknown): error is BrokenCircuitError =>
  typeof error === 'object' && error !== null && (error as { isBrokenCircuitError?: unknown }).isBrokenCircuitError === true;

const brokenCircuit = (retryAfterMs: number): BrokenCircuitError =>
  Object.assign(new Error('circuit open: the call was not made'), { name: 'BrokenCircuitError', isBrokenCircuitError: true as const, retryAfterMs });

/**
 * Waits for a permit from the authority, but no longer than the caller does: when the signal
 * fires first (the deadline), the caller moves on at once, and a permit that still arrives is
 * handed back.
 */
function untilAborted(acquired: Promise<BreakerPermit>, ctx: CallContext, client: BreakerClient): Promise<BreakerPermit> {
  if (ctx.signal.aborted) {
    ctx.defer(acquired.then((late) => client.cancel(late)));
    return Promise.reject(ctx.signal.reason);
  }
  return new Promise<BreakerPermit>((resolve, reject) => {
    const onAbort = () => {
      ctx.defer(acquired.then((late) => client.cancel(late)));
      reject(ctx.signal.reason);
    };
    ctx.signal.addEventListener('abort', onAbort, { once: true });
    acquired.then(
      (permit) => {
        ctx.signal.removeEventListener('abort', onAbort);
        resolve(permit);
      },
      (error: unknown) => {
        ctx.signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}

export interface CircuitBreakerPolicyOptions {
  /**
   * Whether a call that returned (did not throw) failed: for HTTP, a 5xx. A thrown error always
   * counts as a failure (network error, timeout); the caller never sees 4xx counted.
   */
  isFailure?: (result: unknown) => boolean;
  now?: () => number;
}

/**
 * The circuit breaker as a policy: asks the isolate's `BreakerClient` for a permit, refuses with a
 * `BrokenCircuitError` when there is none (the call is never made), and reports how the call went
 * (failed or not, and how long it took, for the slow-call rate). Reports leave through the
 * context's `defer`, so the caller's answer never waits on them.
 */
export function circuitBreaker(client: BreakerClient, options: CircuitBreakerPolicyOptions = {}): Policy {
  const isFailure = options.isFailure ?? (() => false);
  const now = options.now ?? Date.now;
  return {
    async execute<T>(call: Call<T>, context?: Partial<CallContext>): Promise<T> {
      const ctx = fullContext(context);
      const acquired = client.acquire();
      const permit = acquired instanceof Promise ? await untilAborted(acquired, ctx, client) : acquired;
      if (!permit.permitted) throw brokenCircuit(client.retryAfterMs());
      if (ctx.signal.aborted) {
        // The caller gave up while the permit was on its way: the call is not made, and a probe
        // permit goes back, so its slot is not held by a call that never ran.
        const work = client.cancel(permit);
        if (work) ctx.defer(work);
        throw ctx.signal.reason;
      }
      const started = now();
      const report = (failed: boolean) => {
        const work = client.record(permit, { failed, durationMs: now() - started });
        if (work) ctx.defer(work);
      };
      let result: T;
      try {
        result = await call(ctx);
      } catch (error) {
        report(true);
        throw error;
      }
      report(isFailure(result));
      return result;
    },
  };
}
