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

/** Marks a context whose signal `fullContext` made up: its controller is held by no one. */
const NEVER_ABORTS = Symbol('never aborts');

/**
 * A context for a caller that gave no signal. Its signal is made on first read, and per call, not
 * shared: on workerd an AbortSignal belongs to the request that made it, and another request
 * touching it fails. Most calls never read it (a timeout gives the calls beneath it its own), so
 * most calls never pay for an AbortController.
 */
function defaultContext(attempt: number, defer: CallContext['defer']): CallContext {
  let signal: AbortSignal | undefined;
  return {
    attempt,
    defer,
    get signal() {
      return (signal ??= new AbortController().signal);
    },
    [NEVER_ABORTS]: true,
  } as CallContext;
}

/**
 * Fills in what the caller left out: a signal that never aborts, attempt 1, detached work. A
 * context that is already whole is answered as it is (policies copy before they change one).
 */
export function fullContext(context: Partial<CallContext> = {}): CallContext {
  if (NEVER_ABORTS in context) return context as CallContext;
  const { signal, attempt, defer } = context;
  if (signal !== undefined && attempt !== undefined && defer !== undefined) return context as CallContext;
  if (signal === undefined) return defaultContext(attempt ?? 1, defer ?? runDetached);
  return { signal, attempt: attempt ?? 1, defer: defer ?? runDetached };
}

/**
 * Whether the context's signal may ever abort: false when the caller gave none and `fullContext`
 * made one up (nothing holds its controller), so a policy need not listen to it.
 */
export const mayAbort = (context: Partial<CallContext> | undefined): boolean =>
  context !== undefined && !(NEVER_ABORTS in context) && context.signal !== undefined;

/**
 * Composes policies, the first outermost. `wrap()` with none runs the call as it is. The context
 * goes to the outermost policy as given: each policy fills in what is missing itself.
 */
export function wrap(...policies: Policy[]): Policy {
  const [outermost, ...inner] = policies;
  return {
    execute<T>(call: Call<T>, context?: Partial<CallContext>): Promise<T> {
      if (outermost === undefined) return call(fullContext(context));
      const run = inner.reduceRight<Call<T>>((next, policy) => (ctx) => policy.execute(next, ctx), call);
      return outermost.execute(run, context);
    },
  };
}
