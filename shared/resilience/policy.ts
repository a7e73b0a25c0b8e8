/**
 * A resilience policy runs a call on the caller's behalf: it may refuse it, time it out, run it
 * again, or answer instead of it. Policies compose with `wrap(outer, ..., inner)`, as in
 * cockatiel: `wrap(timeout, retry, bulkhead)` times out the whole retried call, each attempt
 * taking a bulkhead slot.
 */
export interface CallContext {
  /** Aborted when the caller, or an outer policy (a timeout), gives up. */
  signal: AbortSignal;
  /** 1 for the first attempt, 2 for the first retry, ... */
  attempt: number;
  /**
   * Hands over work that may finish after the answer (a breaker report, say): `ctx.waitUntil`
   * on workerd. By default the work simply runs, its failure ignored.
   */
  defer: (work: Promise<unknown>) => void;
}

export type Call<T> = (context: CallContext) => Promise<T>;

export interface Policy {
  /** Runs `call` under this policy; `context` is the outer policy's (or the caller's). */
  execute<T>(call: Call<T>, context?: Partial<CallContext>): Promise<T>;
}

const runDetached = (work: Promise<unknown>) => void work.catch(() => undefined);

/**
 * Fills in what the caller left out: a signal that never aborts, attempt 1, detached work. The
 * signal is made per call, not shared: on workerd an AbortSignal belongs to the request that
 * made it, and another request touching it fails.
 */
export const fullContext = (context: Partial<CallContext> = {}): CallContext => ({
  signal: context.signal ?? new AbortController().signal,
  attempt: context.attempt ?? 1,
  defer: context.defer ?? runDetached,
});

/** Composes policies, the first outermost. `wrap()` with none runs the call as it is. */
export function wrap(...policies: Policy[]): Policy {
  return {
    execute<T>(call: Call<T>, context?: Partial<CallContext>): Promise<T> {
      const run = policies.reduceRight<Call<T>>((inner, policy) => (ctx) => policy.execute(inner, ctx), call);
      return run(fullContext(context));
    },
  };
}
