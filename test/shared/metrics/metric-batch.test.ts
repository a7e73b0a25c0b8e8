import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  addCounter,
  emptyBatch,
  isEmptyBatch,
  mergeBatch,
  observe,
  parseSeriesKey,
  seriesKey,
  setGauge,
  splitSeriesKey,
  type MetricBatch,
} from '../../../shared/metrics/metric-batch';

const BOUNDS = [0.1, 0.5, 1] as const;

describe('seriesKey', () => {
  it('is the bare name without labels', () => {
    expect(seriesKey('up')).toBe('up');
    expect(seriesKey('up', {})).toBe('up');
  });

  it('sorts labels by name so the same series always has the same key', () => {
    expect(seriesKey('http_requests_total', { status: '200', method: 'GET', route: '/x' })).toBe(
      'http_requests_total{method="GET",route="/x",status="200"}',
    );
    expect(seriesKey('m', { b: '2', a: '1' })).toBe(seriesKey('m', { a: '1', b: '2' }));
  });

  it('escapes quotes, backslashes and newlines in label values', () => {
    expect(seriesKey('m', { path: 'a"b' })).toBe('m{path="a\\"b"}');
    expect(seriesKey('m', { path: 'a\\b' })).toBe('m{path="a\\\\b"}');
    expect(seriesKey('m', { path: 'a\nb' })).toBe('m{path="a\\nb"}');
    // The backslash is escaped first, so an escaped quote is not escaped twice.
    expect(seriesKey('m', { path: '\\"\n' })).toBe('m{path="\\\\\\"\\n"}');
  });

  it('keeps distinct label values distinct after escaping', () => {
    expect(seriesKey('m', { v: 'a\\nb' })).not.toBe(seriesKey('m', { v: 'a\nb' }));
  });
});

describe('splitSeriesKey', () => {
  it('splits a key back into name and label text', () => {
    expect(splitSeriesKey(seriesKey('m', { a: '1', b: 'x{y}' }))).toEqual({ name: 'm', labelText: 'a="1",b="x{y}"' });
    expect(splitSeriesKey('up')).toEqual({ name: 'up', labelText: '' });
  });
});

describe('counters and gauges', () => {
  it('adds counter increments per series, by 1 by default', () => {
    const batch = emptyBatch();
    addCounter(batch, 'c', { a: '1' });
    addCounter(batch, 'c', { a: '1' }, 4);
    addCounter(batch, 'c', { a: '2' });
    expect(batch.counters).toEqual({ 'c{a="1"}': 5, 'c{a="2"}': 1 });
  });

  it('sets gauges to the last value', () => {
    const batch = emptyBatch();
    setGauge(batch, 'g', {}, 3);
    setGauge(batch, 'g', {}, 1);
    expect(batch.gauges).toEqual({ g: 1 });
  });

  it('isEmptyBatch is true only for a batch with no series of any kind', () => {
    expect(isEmptyBatch(emptyBatch())).toBe(true);
    const withCounter = emptyBatch();
    addCounter(withCounter, 'c', {});
    const withGauge = emptyBatch();
    setGauge(withGauge, 'g', {}, 0);
    const withHistogram = emptyBatch();
    observe(withHistogram, 'h', {}, 1, BOUNDS);
    expect([withCounter, withGauge, withHistogram].map(isEmptyBatch)).toEqual([false, false, false]);
  });
});

describe('observe', () => {
  const countsAfter = (...values: number[]) => {
    const batch = emptyBatch();
    for (const value of values) observe(batch, 'h', {}, value, BOUNDS);
    return batch.histograms.h;
  };

  it('puts a value in the first bucket whose bound is at least the value', () => {
    expect(countsAfter(0.05)?.counts).toEqual([1, 0, 0, 0]);
    expect(countsAfter(0.3)?.counts).toEqual([0, 1, 0, 0]);
    expect(countsAfter(0.7)?.counts).toEqual([0, 0, 1, 0]);
  });

  it('counts a value exactly on a bound in that bound bucket (le)', () => {
    expect(countsAfter(0.1)?.counts).toEqual([1, 0, 0, 0]);
    expect(countsAfter(0.5)?.counts).toEqual([0, 1, 0, 0]);
    expect(countsAfter(1)?.counts).toEqual([0, 0, 1, 0]);
  });

  it('puts a value above every bound in the +Inf bucket', () => {
    expect(countsAfter(1.0001)?.counts).toEqual([0, 0, 0, 1]);
    expect(countsAfter(Number.MAX_VALUE)?.counts).toEqual([0, 0, 0, 1]);
  });

  it('puts negative values in the first bucket', () => {
    expect(countsAfter(-5)?.counts).toEqual([1, 0, 0, 0]);
  });

  it('keeps sum and count', () => {
    expect(countsAfter(0.25, 0.5, 2)).toEqual({ bounds: [0.1, 0.5, 1], counts: [0, 2, 0, 1], sum: 2.75, count: 3 });
  });

  it('does not share the bounds array it was given', () => {
    const bounds = [1, 2];
    const batch = emptyBatch();
    observe(batch, 'h', {}, 1, bounds);
    bounds.push(3);
    expect(batch.histograms.h?.bounds).toEqual([1, 2]);
  });
});

describe('mergeBatch', () => {
  it('adds counters and histograms and takes the newer gauge', () => {
    const a = emptyBatch();
    addCounter(a, 'c', {}, 2);
    setGauge(a, 'g', {}, 10);
    observe(a, 'h', {}, 0.05, BOUNDS);
    const b = emptyBatch();
    addCounter(b, 'c', {}, 3);
    addCounter(b, 'd', {}, 1);
    setGauge(b, 'g', {}, 7);
    observe(b, 'h', {}, 5, BOUNDS);

    expect(mergeBatch(a, b)).toEqual({
      counters: { c: 5, d: 1 },
      gauges: { g: 7 },
      histograms: { h: { bounds: [0.1, 0.5, 1], counts: [1, 0, 0, 1], sum: 5.05, count: 2 } },
    });
  });

  it('merges into and returns the first batch, leaving the second untouched', () => {
    const into = emptyBatch();
    const from = emptyBatch();
    observe(from, 'h', {}, 0.2, BOUNDS);
    const fromBefore = structuredClone(from);
    expect(mergeBatch(into, from)).toBe(into);
    into.histograms.h?.counts.fill(99);
    expect(from).toEqual(fromBefore);
  });

  it('starts a histogram over from the delta when its buckets were redefined', () => {
    const total = emptyBatch();
    observe(total, 'h', {}, 0.2, [0.1, 0.5]);
    observe(total, 'h', {}, 0.2, [0.1, 0.5]);
    const delta = emptyBatch();
    observe(delta, 'h', {}, 3, [1, 5, 10]);
    expect(mergeBatch(total, delta).histograms.h).toEqual({ bounds: [1, 5, 10], counts: [0, 1, 0, 0], sum: 3, count: 1 });
  });

  it('equals recording everything into one batch, however the records are split into batches (property)', () => {
    // Integer values keep the sums exact, so the comparison is not about float rounding.
    const labels = fc.record({ route: fc.constantFrom('/a', '/b', 'we"ird\\'), method: fc.constantFrom('GET', 'POST') });
    const record = fc.oneof(
      fc.record({ kind: fc.constant('counter' as const), name: fc.constantFrom('c1', 'c2'), labels, by: fc.integer({ min: 0, max: 1_000 }) }),
      fc.record({ kind: fc.constant('gauge' as const), name: fc.constantFrom('g1', 'g2'), labels, value: fc.integer({ min: -1_000, max: 1_000 }) }),
      fc.record({ kind: fc.constant('observe' as const), name: fc.constantFrom('h1', 'h2'), labels, value: fc.integer({ min: -5, max: 50 }) }),
    );
    const boundsOf: Record<string, readonly number[]> = { h1: [1, 5, 10], h2: [0, 20] };
    type Recorded = typeof record extends fc.Arbitrary<infer T> ? T : never;
    const apply = (batch: MetricBatch, r: Recorded) => {
      if (r.kind === 'counter') addCounter(batch, r.name, r.labels, r.by);
      else if (r.kind === 'gauge') setGauge(batch, r.name, r.labels, r.value);
      else observe(batch, r.name, r.labels, r.value, boundsOf[r.name] ?? []);
    };

    fc.assert(
      fc.property(fc.array(record, { maxLength: 60 }), fc.array(fc.nat(), { maxLength: 10 }), (records, cutSeeds) => {
        const whole = emptyBatch();
        for (const r of records) apply(whole, r);

        const cuts = [...new Set(cutSeeds.map((seed) => (records.length === 0 ? 0 : seed % (records.length + 1))))].sort((x, y) => x - y);
        const edges = [0, ...cuts, records.length];
        const merged = emptyBatch();
        for (let i = 0; i + 1 < edges.length; i++) {
          const chunk = emptyBatch();
          for (const r of records.slice(edges[i], edges[i + 1])) apply(chunk, r);
          mergeBatch(merged, chunk);
        }
        expect(merged).toEqual(whole);
      }),
    );
  });
});

describe('parseSeriesKey', () => {
  it('reads back the name and labels seriesKey wrote, whatever the label values hold', () => {
    const labelName = fc.stringMatching(/^[a-z_][a-z0-9_]{0,8}$/);
    fc.assert(
      fc.property(fc.dictionary(labelName, fc.string({ unit: 'grapheme' })), (labels) => {
        expect(parseSeriesKey(seriesKey('http_requests_total', labels))).toEqual({ name: 'http_requests_total', labels });
      }),
    );
  });

  it('gives no labels for a bare name', () => {
    expect(parseSeriesKey('up')).toEqual({ name: 'up', labels: {} });
  });
});
