import { describe, expect, it } from 'vitest';
import { Bulkhead, isBulkheadRejectedError } from '../../../shared/resilience/bulkhead';
import { wrap } from '../../../shared/resilience/policy';
import { retry } from '../../../shared/resilience/retry';
import { isTimeoutError, timeout } from '../../../shared/resilience/timeout';

function deferred<T = void>() {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

/** A call that never settles by itself, but rejects when its signal aborts (as fetch does). */
const hanging = ({ signal }: { signal: AbortSignal }) =>
  new Promise<never>((_, reject) => signal.addEventListener('abort', () => reject(signal.reason)));

describe('timeout', () => {
  it('fails with a TimeoutError and aborts the call’s signal', async () => {
    let seen: AbortSignal | undefined;
    const error = await timeout(20)
      .execute((ctx) => {
        seen = ctx.signal;
        return hanging(ctx);
      })
      .catch((e: unknown) => e);
    expect(isTimeoutError(error)).toBe(true);
    expect(seen?.aborted).toBe(true);
  });

  it('reports the timeout even when the aborted call rejects with its own AbortError first', async () => {
    const ownAbort = ({ signal }: { signal: AbortSignal }) =>
      new Promise<never>((_, reject) => signal.addEventListener('abort', () => reject(new DOMException('aborted', 'AbortError'))));
    const error = await timeout(20).execute(ownAbort).catch((e: unknown) => e);
    expect(isTimeoutError(error)).toBe(true);
  });

  it('passes an answer that comes in time through', async () => {
    expect(await timeout(1_000).execute(async () => 'ok')).toBe('ok');
  });

  it('aborts the call when the caller gives up first', async () => {
    const caller = new AbortController();
    const running = timeout(10_000).execute(hanging, { signal: caller.signal });
    caller.abort(new Error('client went away'));
    await expect(running).rejects.toThrow('client went away');
  });
});

describe('Bulkhead', () => {
  it('refuses at once when every slot and the queue are taken', async () => {
    const bulkhead = new Bulkhead({ maxConcurrent: 2, maxQueue: 1 });
    const gate = deferred();
    const held = [1, 2, 3].map(() => bulkhead.execute(() => gate.promise));
    expect(bulkhead.active).toBe(2);
    expect(bulkhead.queued).toBe(1);
    const refused = await bulkhead.execute(async () => 'never').catch((e: unknown) => e);
    expect(isBulkheadRejectedError(refused)).toBe(true);
    gate.resolve();
    await Promise.all(held);
    expect(bulkhead.active).toBe(0);
  });

  it('never runs more than maxConcurrent, even when a new call arrives as a slot frees', async () => {
    const bulkhead = new Bulkhead({ maxConcurrent: 1, maxQueue: 10 });
    let running = 0;
    let peak = 0;
    const track = async (until: Promise<void>) => {
      running++;
      peak = Math.max(peak, running);
      await until;
      running--;
    };
    const gate = deferred();
    const first = bulkhead.execute(() => track(gate.promise));
    const waiter = bulkhead.execute(() => track(Promise.resolve()));
    // New calls arrive at every microtask step right after the slot frees: a slot that is
    // released and then re-taken (instead of handed to the waiter) lets one of them slip in.
    const arrivals: Promise<unknown>[] = [];
    let chain: Promise<unknown> = Promise.resolve();
    gate.resolve();
    for (let step = 0; step < 6; step++) chain = chain.then(() => arrivals.push(bulkhead.execute(() => track(Promise.resolve()))));
    await Promise.all([first, waiter, chain]);
    await Promise.all(arrivals);
    expect(peak).toBe(1);
  });

  it('lets a waiting call leave the queue when its caller gives up', async () => {
    const bulkhead = new Bulkhead({ maxConcurrent: 1, maxQueue: 1 });
    const gate = deferred();
    const first = bulkhead.execute(() => gate.promise);
    const caller = new AbortController();
    const waiting = bulkhead.execute(async () => 'late', { signal: caller.signal });
    caller.abort(new Error('gave up'));
    await expect(waiting).rejects.toThrow('gave up');
    expect(bulkhead.queued).toBe(0);
    gate.resolve();
    await first;
  });
});

describe('wrap', () => {
  it('applies policies outermost first: a timeout around retries bounds them all', async () => {
    let attempts = 0;
    const policy = wrap(
      timeout(50),
      retry({ maxAttempts: 100, baseDelayMs: 1, maxDelayMs: 1, retryError: () => true }),
    );
    const error = await policy
      .execute(async ({ signal }) => {
        attempts++;
        if (signal.aborted) throw signal.reason;
        throw new Error('transient');
      })
      .catch((e: unknown) => e);
    expect(isTimeoutError(error)).toBe(true);
    expect(attempts).toBeGreaterThan(1);
    expect(attempts).toBeLessThan(100);
  });

  it('passes the attempt number to the call through inner policies', async () => {
    const attempts: number[] = [];
    const policy = wrap(retry({ maxAttempts: 3, baseDelayMs: 0, maxDelayMs: 0, retryResult: (r) => ({ retry: r !== 'done' }) }), new Bulkhead({ maxConcurrent: 1, maxQueue: 0 }));
    await policy.execute(async ({ attempt }) => {
      attempts.push(attempt);
      return attempt === 3 ? 'done' : 'again';
    });
    expect(attempts).toEqual([1, 2, 3]);
  });
});
