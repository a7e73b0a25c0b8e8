import { addCounter, emptyBatch, isEmptyBatch, observe, setGauge, type Labels, type MetricBatch } from './metric-batch';

/** Where a batch goes; `seq` increases per recorder so the receiver can drop a re-sent batch. */
export type BatchSink = (source: string, seq: number, batch: MetricBatch) => Promise<void>;

export interface BatchingRecorderOptions {
  /** Identifies this recorder (one per isolate) to the receiver, for de-duplication. */
  source: string;
  send: BatchSink;
  /** At most one flush per this many milliseconds. 0 flushes as soon as a flush is scheduled. */
  flushIntervalMs: number;
  sleep?: (ms: number) => Promise<void>;
}

/**
 * Counts in memory and ships deltas in batches: at most one call to the aggregator per flush
 * interval per isolate, instead of one per request (DESIGN.md decision 2).
 *
 * Nothing is lost when a send fails: the failed batch is kept and sent again, with the same
 * sequence number, before anything newer, so a send that did arrive but whose answer was lost
 * is recognised and dropped by the receiver instead of being counted twice.
 */
export class BatchingRecorder {
  private pending: MetricBatch = emptyBatch();
  private unsent: { seq: number; batch: MetricBatch } | null = null;
  private seq = 0;
  private scheduled = false;
  private chain: Promise<void> = Promise.resolve();
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(private readonly options: BatchingRecorderOptions) {
    this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
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

  /** Sends everything recorded so far; resolves once it has arrived. Flushes never overlap. */
  flush(): Promise<void> {
    const run = this.chain.then(() => this.sendAll());
    // Keep the chain alive after a failure; the caller still sees the error through `run`.
    this.chain = run.catch(() => undefined);
    return run;
  }

  private async sendAll(): Promise<void> {
    if (this.unsent) {
      await this.options.send(this.options.source, this.unsent.seq, this.unsent.batch);
      this.unsent = null;
    }
    if (isEmptyBatch(this.pending)) return;
    this.unsent = { seq: ++this.seq, batch: this.pending };
    this.pending = emptyBatch();
    await this.options.send(this.options.source, this.unsent.seq, this.unsent.batch);
    this.unsent = null;
  }
}
