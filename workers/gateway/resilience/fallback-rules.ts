/**
 * How a route answers a failed GET when its upstream cannot (circuit open, bulkhead full, deadline
 * passed, unreachable, or a 5xx). Rules are tried in order; the first that has an answer wins, and
 * the answer says so in `x-fallback` (its kind) and `x-fallback-reason` (what failed).
 */
export type FallbackRule =
  /** A fixed answer, for paths in `paths` (every path when absent). */
  | { kind: 'static'; status?: number; body: unknown; paths?: string[] }
  /** The last good (200) answer this isolate saw for the same path and query, if not older than `maxAgeMs`. */
  | { kind: 'last-good'; maxAgeMs?: number }
  /**
   * A degraded answer for the upstream paths in `paths`: the last good answer of `source` (an
   * upstream path, e.g. the most viewed products), fetched while the upstream was healthy,
   * refreshed at most every `refreshMs` and never served older than `maxAgeMs` (default 1 h).
   * With `queries`, only requests whose query parameters are all in that list get it.
   */
  | { kind: 'degraded'; paths: string[]; queries?: string[]; source: string; refreshMs?: number; maxAgeMs?: number };

export type FallbackKind = FallbackRule['kind'];

/** Why a fallback answered: the header value clients see. */
export type FallbackReason = 'circuit-open' | 'bulkhead-full' | 'timeout' | 'unreachable' | `upstream-${number}`;

export const FALLBACK_HEADER = 'x-fallback';
export const FALLBACK_REASON_HEADER = 'x-fallback-reason';
