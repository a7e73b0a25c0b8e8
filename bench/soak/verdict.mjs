// The soak run's verdict on one series (a table's row count, a class's objects with storage,
// workerd's memory) sampled over the run: flat once retention applies, or still growing.
//
// Retention makes a series climb while its first horizon fills, then hold at about
// (rate × horizon): rows leave as fast as they come. So the first third of the run is the climb
// and is left out; the series is flat when the highest value of the last third is no higher than
// the highest value of the middle third, give or take a tolerance (load comes in bursts, chaos
// turns on and off, the crons prune in steps). A series that grows without bound keeps setting new
// highs and fails this; one that only wobbles does not. Highs rather than means or slopes: a
// leak shows as a rising ceiling, and the ceiling is what fills a disk.

/** How much higher the last third's maximum may be than the middle third's and still be flat. */
export const DEFAULT_TOLERANCE = { relative: 0.1, absolute: 10 };

/** Fewer samples than this in the middle or the last third: no verdict. */
export const MIN_SAMPLES_PER_THIRD = 3;

/**
 * The verdict on one series. `samples` are `{ t, value }` (t in ms from the start, ascending);
 * `durationMs` is the run's length (thirds are by time, not by sample count, so a late sample
 * does not move them). `expect` is `bounded` (it has a retention rule: growth is a bug) or `kept`
 * (kept by design: growth is expected and only reported).
 * Answers `{ verdict, middleMax, lastMax, growth }`, where verdict is one of `flat`, `grows`,
 * `grows (kept)`, `too few samples`; growth is lastMax ÷ middleMax − 1 (null when middleMax is 0).
 */
export function seriesVerdict(samples, { durationMs, expect = 'bounded', tolerance = DEFAULT_TOLERANCE }) {
  const middle = samples.filter((s) => s.t >= durationMs / 3 && s.t < (2 * durationMs) / 3).map((s) => s.value);
  const last = samples.filter((s) => s.t >= (2 * durationMs) / 3).map((s) => s.value);
  if (middle.length < MIN_SAMPLES_PER_THIRD || last.length < MIN_SAMPLES_PER_THIRD) {
    return { verdict: 'too few samples', middleMax: null, lastMax: null, growth: null };
  }
  const middleMax = Math.max(...middle);
  const lastMax = Math.max(...last);
  const growth = middleMax > 0 ? lastMax / middleMax - 1 : null;
  const flat = lastMax <= middleMax * (1 + tolerance.relative) + tolerance.absolute;
  return { verdict: flat ? 'flat' : expect === 'kept' ? 'grows (kept)' : 'grows', middleMax, lastMax, growth };
}

/** True when a verdict is a finding: a bounded series that grew. */
export const isFinding = (result) => result.verdict === 'grows';
