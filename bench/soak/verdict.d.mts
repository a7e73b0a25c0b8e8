/** The soak run's verdict on one sampled series (see the .mjs). */
export interface Tolerance {
  relative: number;
  absolute: number;
}
export interface SeriesVerdict {
  verdict: 'flat' | 'grows' | 'grows (kept)' | 'too few samples';
  middleMax: number | null;
  lastMax: number | null;
  growth: number | null;
}
export const DEFAULT_TOLERANCE: Tolerance;
export const MIN_SAMPLES_PER_THIRD: number;
export function seriesVerdict(
  samples: readonly { t: number; value: number }[],
  options: { durationMs: number; expect?: 'bounded' | 'kept'; tolerance?: Tolerance },
): SeriesVerdict;
export function isFinding(result: SeriesVerdict): boolean;
