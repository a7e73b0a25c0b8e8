/**
 * A route's response-cache policy (the `cache` slot of routes.ts). The gateway caches GET answers
 * of routes that have one (cache-aside, response-cache.ts); every other route is untouched.
 */
export interface CachePolicy {
  /** Fresh for this long: answered from the cache (`x-cache: HIT`), the upstream not called. */
  ttlSeconds: number;
  /**
   * Then, for this long, still answered at once from the cache (`x-cache: STALE`) while ONE
   * background refresh per isolate fetches a new copy (RFC 5861). Past both: a MISS.
   */
  staleWhileRevalidateSeconds: number;
  /**
   * The tags an answer is stored under, from the upstream path (`/products/p1`) and query
   * (`?limit=5`, may be empty). A write that purges a tag makes every answer stored under it a
   * MISS (tag-versions.ts).
   */
  tags?: string[] | ((upstreamPath: string, search: string) => string[]);
  /**
   * The tags a write through this route purges once it is answered 2xx: from the method, the
   * upstream path and the answer (its headers: a `Location` names what a POST created).
   */
  invalidates?: (write: { method: string; upstreamPath: string; response: Response }) => string[];
  /**
   * Cache answers to identified callers too (requests with `Authorization` or `Cookie`, answers
   * marked `Cache-Control: private`), each under the caller's own key so no one is served another's
   * answer. Off by default: such requests BYPASS the cache.
   */
  private?: boolean;
  /** Request headers whose values are part of the key (as `Vary` would name them), e.g. `accept-language`. */
  vary?: string[];
}

/** The tags of one cached request under `policy`. */
export function tagsFor(policy: CachePolicy, upstreamPath: string, search: string): string[] {
  const tags = typeof policy.tags === 'function' ? policy.tags(upstreamPath, search) : (policy.tags ?? []);
  return [...new Set(tags)].sort();
}
