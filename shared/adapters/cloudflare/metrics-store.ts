import { DurableObject } from 'cloudflare:workers';
import { emptyBatch, mergeBatch, type MetricBatch } from '../../metrics/metric-batch';

/** How long a silent isolate's last sequence number is remembered for de-duplication. */
const SOURCE_MEMORY_MS = 60 * 60 * 1000;

interface SourceMark {
  seq: number;
  at: number;
}

/**
 * One worker's metric totals: every isolate of that worker sends its deltas here in batches
 * (BatchingRecorder), so a read sees the sum over all isolates, not one isolate's share. One
 * object per worker (named "global") is enough: each isolate calls it at most once per flush
 * interval, far below what one object serves. The gateway binds it as METRICS for its own
 * series; every service binds its own as METRICS too (service-metrics.ts), and the gateway's
 * `/metrics` reads each service's totals over its binding at scrape time.
 *
 * Totals are persisted after every merge, so an eviction or restart loses nothing that was
 * acknowledged. A batch re-sent after a lost answer carries the same (source, seq) and is dropped.
 * Retention: series are bounded by their labels (route templates, not paths); the sources
 * remembered for de-duplication are forgotten after an hour of silence.
 */
export class MetricsStore extends DurableObject<Record<string, unknown>> {
  private totals: MetricBatch = emptyBatch();
  private sources = new Map<string, SourceMark>();

  constructor(ctx: DurableObjectState, env: Record<string, unknown>) {
    super(ctx, env);
    void ctx.blockConcurrencyWhile(async () => {
      this.totals = (await ctx.storage.get<MetricBatch>('totals')) ?? emptyBatch();
      this.sources = new Map(Object.entries((await ctx.storage.get<Record<string, SourceMark>>('sources')) ?? {}));
    });
  }

  /** Adds one batch of deltas; returns false when the batch was already applied. */
  async merge(source: string, seq: number, batch: MetricBatch): Promise<boolean> {
    const now = Date.now();
    const last = this.sources.get(source);
    if (last && seq <= last.seq) return false;
    mergeBatch(this.totals, batch);
    this.sources.set(source, { seq, at: now });
    for (const [id, mark] of this.sources) if (now - mark.at > SOURCE_MEMORY_MS) this.sources.delete(id);
    await this.ctx.storage.put({ totals: this.totals, sources: Object.fromEntries(this.sources) });
    return true;
  }

  async snapshot(): Promise<MetricBatch> {
    return this.totals;
  }
}
