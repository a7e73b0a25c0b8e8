import { addCounter, emptyBatch, isEmptyBatch, observe, setGauge, type Labels, type MetricBatch } from './metric-batch';

/** Where a batch goes; `seq` increases per recorder so the receiver can drop a re-sent batch. */
export type BatchSink = (source: string, seq: number, batch: MetricBatch) => Promise<void>;

export interface BatchingRecorderOptions {
  /** Identifies this recorder (one per isolate) to the receiver, for de-duplication. */
  source: string;
  send: BatchSink;
  /** At most one flush per this many milliseconds. 0 flushes as soon as a flush is scheduled. */
  flushIntervalMs: number;
  /** A send not answered within this long is taken as lost, so a later flush may go. Default 10 s. */
  sendTimeoutMs?: number;
  sleep?: (ms: number) => Promise<void>;
  now?: () => number;
}

/**
 * Counts in memory and ships deltas in batches: at most one call to the aggregator per flush
 * interval per isolate, instead of one per request (docs/architecture.md, decision 2).
 *
 * Nothing is lost when a send fails: the failed batch is kept and sent again, with the same
 * sequence number, before anything newer, so a send that did arrive but whose answer was lost
 * is recognised and dropped by the receiver instead of being counted twice.
 *
 * Sends never overlap, and no request waits on another's: on workerd a request must not await
 * work another request started (whose `waitUntil` may be cut short, leaving it pending forever).
 * A flush while a send is on its way returns at once; what is pending goes with a later flush.
 * A send unanswered for `sendTimeoutMs` is given up on: the next flush re-sends its batch (same
 * seq) and takes over, and the abandoned one, should it ever finish, changes nothing.
 */
export class BatchingRecorder {
  private pending: MetricBatch = emptyBatch();
  private unsent: { seq: number; batch: MetricBatch } | null = null;
  private seq = 0;
  private scheduled = false;
  /** Which flush owns the sending, and since when; null when none is sending. */
  private owner: { since: number } | null = null;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly now: () => number;

  constructor(private readonly options: BatchingRecorderOptions) {
    this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    this.now = options.now ?? Date.now;
  }

  counter(name: string, labels: Labels, by = 1): void {
    addCounter(this.pending, name, labels, by);
  }

  gauge(name: string, labels: Labels, value: number): void {
    setGauge(this.pending, name, labels, value);
  }

  observe(name: string, labels: Labels, value: number, bounds: readonly number[]): void {
    observe(this.pending, name, labels, value, bounds);
  }

  /**
   * Returns the promise of a flush after the interval, for the caller to hand to `waitUntil`, or
   * undefined when one is already on its way (the batch it sends will include what is pending).
   */
  scheduleFlush(): Promise<void> | undefined {
    if (this.scheduled) return undefined;
    this.scheduled = true;
    const wait = this.options.flushIntervalMs > 0 ? this.sleep(this.options.flushIntervalMs) : Promise.resolve();
    return wait.then(() => {
      this.scheduled = false;
      return this.flush();
    });
  }

  /**
   * Sends everything recorded so far and resolves once it has arrived, or resolves at once when
   * another flush is sending (its caller waits for that one). Rejects when a send fails; the
   * batch is kept for the next flush.
   */
  async flush(): Promise<void> {
    const now = this.now();
    if (this.owner && now - this.owner.since < (this.options.sendTimeoutMs ?? 10_000)) return;
    const me = { since: now };
    this.owner = me;
    try {
      await this.sendAll(me);
    } finally {
      if (this.owner === me) this.owner = null;
    }
  }

  private async sendAll(me: { since: number }): Promise<void> {
    const stillMine = () => this.owner === me;
    if (this.unsent) {
      const unsent = this.unsent;
      await this.options.send(this.options.source, unsent.seq, unsent.batch);
      if (!stillMine()) return;
      if (this.unsent === unsent) this.unsent = null;
    }
    if (isEmptyBatch(this.pending)) return;
    const next = { seq: ++this.seq, batch: this.pending };
    this.unsent = next;
    this.pending = emptyBatch();
    await this.options.send(this.options.source, next.seq, next.batch);
    if (stillMine() && this.unsent === next) this.unsent = null;
  }
}
