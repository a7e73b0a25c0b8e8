import type { BreakerClient } from './breaker-client';
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
      const permit = acquired instanceof Promise ? await acquired : acquired;
      if (!permit.permitted) throw brokenCircuit(client.retryAfterMs());
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
