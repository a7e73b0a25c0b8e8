import { describe, expect, it } from 'vitest';
import { isFinding, seriesVerdict } from '../../bench/soak/verdict.mjs';

/** bench/soak/verdict.mjs: whether a series the soak run sampled is flat once retention applies. */
const MINUTE = 60_000;
const DURATION = 15 * MINUTE;
/** A sample every 30 s over the run, valued by `f(minutes since the start)`. */
const series = (f: (minutes: number) => number) => Array.from({ length: 31 }, (_, i) => ({ t: i * 30_000, value: f(i / 2) }));

describe('seriesVerdict', () => {
  it('a series that climbs while its horizon fills, then holds with noise, is flat', () => {
    // 2-minute horizon at 4 rows/s: about 480 rows, ±15 % as load and pruning come in bursts.
    const samples = series((m) => Math.min(m, 2) * 240 * (1 + 0.15 * Math.sin(m * 3)));
    const result = seriesVerdict(samples, { durationMs: DURATION });
    expect(result.verdict).toBe('flat');
    expect(isFinding(result)).toBe(false);
  });

  it('the climb of the first third is left out: growth that stops before the middle third is flat', () => {
    const samples = series((m) => (m < 5 ? m * 1000 : 5000));
    expect(seriesVerdict(samples, { durationMs: DURATION }).verdict).toBe('flat');
  });

  it('a series that grows without bound, even slowly, is a finding', () => {
    // One row per second, never pruned: the last third's maximum is half again the middle's.
    const samples = series((m) => m * 60);
    const result = seriesVerdict(samples, { durationMs: DURATION });
    expect(result.verdict).toBe('grows');
    expect(isFinding(result)).toBe(true);
    expect(result.middleMax).toBe(9.5 * 60);
    expect(result.lastMax).toBe(15 * 60);
    expect(result.growth).toBeCloseTo(15 / 9.5 - 1);
  });

  it('growth within the tolerance (10 % and 10 units) is flat; just past it is not', () => {
    const within = series((m) => (m < 10 ? 1000 : 1110));
    const past = series((m) => (m < 10 ? 1000 : 1111));
    expect(seriesVerdict(within, { durationMs: DURATION }).verdict).toBe('flat');
    expect(seriesVerdict(past, { durationMs: DURATION }).verdict).toBe('grows');
  });

  it('a small series wobbling by a few units stays flat (the absolute slack)', () => {
    const samples = series((m) => (m < 10 ? 2 : 9));
    expect(seriesVerdict(samples, { durationMs: DURATION }).verdict).toBe('flat');
  });

  it('a series kept by design that grows is reported, not a finding', () => {
    const result = seriesVerdict(series((m) => m * 100), { durationMs: DURATION, expect: 'kept' });
    expect(result.verdict).toBe('grows (kept)');
    expect(isFinding(result)).toBe(false);
  });

  it('a run with fewer than three samples in a third gives no verdict', () => {
    const samples = series((m) => m).filter((s) => s.t < 6 * MINUTE || s.t > 14 * MINUTE);
    const result = seriesVerdict(samples, { durationMs: DURATION });
    expect(result.verdict).toBe('too few samples');
    expect(isFinding(result)).toBe(false);
  });

  it('a series at zero in the middle third that rises past the slack grows, with no ratio', () => {
    const result = seriesVerdict(series((m) => (m < 10 ? 0 : 50)), { durationMs: DURATION });
    expect(result.verdict).toBe('grows');
    expect(result.growth).toBeNull();
  });

  it('a custom tolerance is honoured', () => {
    const samples = series((m) => (m < 10 ? 100 : 130));
    expect(seriesVerdict(samples, { durationMs: DURATION, tolerance: { relative: 0.5, absolute: 0 } }).verdict).toBe('flat');
    expect(seriesVerdict(samples, { durationMs: DURATION, tolerance: { relative: 0.1, absolute: 0 } }).verdict).toBe('grows');
  });
});
