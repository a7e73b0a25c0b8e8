import { fullContext, type Call, type CallContext, type Policy } from './policy';

export interface BulkheadOptions {
  /** Calls that may run at once. */
  maxConcurrent: number;
  /** Calls that may wait for a slot; past that a call is refused at once, never queued forever. */
  maxQueue: number;
}

export interface BulkheadRejectedError extends Error {
  isBulkheadRejectedError: true;
}

export const isBulkheadRejectedError = (error: unknown): error is BulkheadRejectedError =>
  typeof error === 'object' && error !== null && (error as { isBulkheadRejectedError?: unknown }).isBulkheadRejectedError === true;

const rejected = (): BulkheadRejectedError =>
  Object.assign(new Error('bulkhead full: no slot and no room in the queue'), { name: 'BulkheadRejectedError', isBulkheadRejectedError: true as const });

/**
 * Caps the calls one upstream may hold at once (per isolate), so a slow upstream ties up at most
 * `maxConcurrent` calls plus `maxQueue` waiters, and the gateway keeps serving everyone else.
 * A queued call whose caller gives up (its signal aborts) leaves the queue.
 */
export class Bulkhead implements Policy {
  private running = 0;
  private readonly queue: (() => void)[] = [];

  constructor(private readonly options: BulkheadOptions) {}

  get active(): number {
    return this.running;
  }

  get queued(): number {
    return this.queue.length;
  }

  async execute<T>(call: Call<T>, context?: Partial<CallContext>): Promise<T> {
    const ctx = fullContext(context);
    if (this.running >= this.options.maxConcurrent) {
      if (this.queue.length >= this.options.maxQueue) throw rejected();
      // The slot is handed over by the call that frees it (`running` is not decremented), so a
      // call arriving in between cannot take it and push the count over the limit.
      await this.waitForSlot(ctx.signal);
    } else {
      this.running++;
    }
    try {
      return await call(ctx);
    } finally {
      const next = this.queue.shift();
      if (next) next();
      else this.running--;
    }
  }

  private waitForSlot(signal: AbortSignal): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const onAbort = () => {
        const index = this.queue.indexOf(admit);
        if (index !== -1) this.queue.splice(index, 1);
        reject(signal.reason);
      };
      const admit = () => {
        signal.removeEventListener('abort', onAbort);
        resolve();
      };
      if (signal.aborted) return reject(signal.reason);
      signal.addEventListener('abort', onAbort, { once: true });
      this.queue.push(admit);
    });
  }
}
