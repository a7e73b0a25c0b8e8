import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { addCounter, emptyBatch, observe, seriesKey } from '../../../shared/metrics/metric-batch';

const store = (name: string) => env.METRICS.get(env.METRICS.idFromName(name));

const batchOf = (requests: number) => {
  const batch = emptyBatch();
  addCounter(batch, 'http_requests_total', { route: '/x' }, requests);
  observe(batch, 'latency', {}, 0.2, [0.1, 1]);
  return batch;
};

describe('MetricsStore (the cross-isolate aggregate)', () => {
  it('sums batches from several isolates', async () => {
    const metrics = store('sums');
    await metrics.merge('isolate-a', 1, batchOf(3));
    await metrics.merge('isolate-b', 1, batchOf(4));
    await metrics.merge('isolate-a', 2, batchOf(1));
    const totals = await metrics.snapshot();
    expect(totals.counters[seriesKey('http_requests_total', { route: '/x' })]).toBe(8);
    expect(totals.histograms.latency).toMatchObject({ count: 3, counts: [0, 3, 0] });
  });

  it('drops a batch re-sent with a sequence number it already applied', async () => {
    const metrics = store('dedupe');
    expect(await metrics.merge('isolate-a', 1, batchOf(5))).toBe(true);
    expect(await metrics.merge('isolate-a', 1, batchOf(5))).toBe(false);
    expect((await metrics.snapshot()).counters[seriesKey('http_requests_total', { route: '/x' })]).toBe(5);
  });

  it('keeps totals across a restart of the object', async () => {
    const id = env.METRICS.idFromName('restart');
    await env.METRICS.get(id).merge('isolate-a', 1, batchOf(2));
    const { abortAllDurableObjects } = await import('cloudflare:test');
    await abortAllDurableObjects();
    expect((await env.METRICS.get(id).snapshot()).counters[seriesKey('http_requests_total', { route: '/x' })]).toBe(2);
  });
});
