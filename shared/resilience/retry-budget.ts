/**
 * A retry budget (as in Finagle and Envoy): over a rolling window, retries may be at most
 * `ratio` of calls, plus a small floor so a quiet upstream can still be retried. When an
 * upstream fails everything, retries stop at that share instead of multiplying its load.
 * Counts live per isolate; time is passed in.
 */
export interface RetryBudgetOptions {
  /** Retries allowed per call in the window (0.2 = 20%). */
  ratio: number;
  /** Retries always allowed per window, whatever the traffic. */
  minRetries: number;
  windowMs: number;
}

export const DEFAULT_RETRY_BUDGET: RetryBudgetOptions = { ratio: 0.2, minRetries: 3, windowMs: 10_000 };

interface Slot {
  start: number;
  calls: number;
  retries: number;
}

const SLOTS = 10;

export class RetryBudget {
  private slots: Slot[] = [];

  constructor(private readonly options: RetryBudgetOptions = DEFAULT_RETRY_BUDGET) {}

  private slot(now: number): Slot {
    const length = Math.max(1, Math.floor(this.options.windowMs / SLOTS));
    const start = now - (now % length);
    const expired = (slot: Slot) => slot.start + length <= now - this.options.windowMs;
    // Slots are oldest first: a new array only when the oldest has left the window, not per call.
    if (this.slots.length > 0 && expired(this.slots[0]!)) this.slots = this.slots.filter((slot) => !expired(slot));
    let current = this.slots.at(-1);
    if (!current || current.start !== start) {
      current = { start, calls: 0, retries: 0 };
      this.slots.push(current);
    }
    return current;
  }

  recordCall(now: number): void {
    this.slot(now).calls++;
  }

  /** Takes one retry from the budget if there is room; false means do not retry. */
  tryRetry(now: number): boolean {
    const current = this.slot(now);
    let calls = 0;
    let retries = 0;
    for (const slot of this.slots) {
      calls += slot.calls;
      retries += slot.retries;
    }
    if (retries + 1 > Math.max(this.options.minRetries, Math.floor(this.options.ratio * calls))) return false;
    current.retries++;
    return true;
  }
}
