import type { AnswerStore } from '../../../shared/cache/answer-store';
import { lifetimeSeconds, type CachedAnswer } from '../../../shared/cache/cached-answer';

/**
 * The metadata an answer carries in the Cache API, as headers of the stored response (the Cache
 * API keeps a response and nothing else). Removed again before anyone is answered.
 */
const META = {
  storedAt: 'x-stratus-cache-stored-at',
  ttl: 'x-stratus-cache-ttl',
  swr: 'x-stratus-cache-swr',
  tags: 'x-stratus-cache-tags',
  /** The upstream's own Cache-Control, kept aside: the stored copy carries ours. */
  cacheControl: 'x-stratus-cache-upstream-cache-control',
} as const;

/** What the Cache API itself adds to an answer it returns. */
const ADDED_BY_CACHE = ['cf-cache-status', 'age', 'expires'];

/**
 * L1: the Cache API (`caches.default`), one data centre's cache, sub-millisecond and free. The
 * stored copy gets `Cache-Control: public, max-age=<ttl + swr>` so the Cache API drops it once
 * no one may be served it; freshness, stale-while-revalidate and tags are judged from our own
 * metadata (cached-answer.ts), never from the Cache API's clock.
 *
 * Keys are URLs on the request's own host (Cloudflare advises against inventing hostnames for
 * cache keys) under a path no route serves: `/__stratus-cache/...`.
 */
export class CacheApiStore implements AnswerStore {
  readonly name = 'cache-api';

  constructor(private readonly cache: Cache = caches.default) {}

  async get(key: string): Promise<CachedAnswer | null> {
    const response = await this.cache.match(new Request(key));
    if (!response) return null;
    const storedAt = Number(response.headers.get(META.storedAt));
    const ttl = Number(response.headers.get(META.ttl));
    const swr = Number(response.headers.get(META.swr));
    let tags: Record<string, number>;
    try {
      tags = JSON.parse(response.headers.get(META.tags) ?? 'null') as Record<string, number>;
    } catch {
      tags = null as unknown as Record<string, number>;
    }
    if (!Number.isFinite(storedAt) || !Number.isFinite(ttl) || !Number.isFinite(swr) || typeof tags !== 'object' || tags === null) {
      await response.body?.cancel();
      return null;
    }
    const upstreamCacheControl = response.headers.get(META.cacheControl);
    const headers = [...response.headers].filter(([name]) => {
      const lower = name.toLowerCase();
      return !Object.values(META).includes(lower as never) && !ADDED_BY_CACHE.includes(lower) && lower !== 'cache-control';
    });
    if (upstreamCacheControl) headers.push(['cache-control', upstreamCacheControl]);
    return { status: response.status, headers, body: await response.arrayBuffer(), storedAt, ttlSeconds: ttl, staleWhileRevalidateSeconds: swr, tags };
  }

  async put(key: string, answer: CachedAnswer): Promise<void> {
    const headers = new Headers(answer.headers);
    const upstreamCacheControl = headers.get('cache-control');
    if (upstreamCacheControl) headers.set(META.cacheControl, upstreamCacheControl);
    headers.set('cache-control', `public, max-age=${lifetimeSeconds(answer)}`);
    headers.delete('set-cookie');
    headers.delete('expires');
    headers.set(META.storedAt, String(answer.storedAt));
    headers.set(META.ttl, String(answer.ttlSeconds));
    headers.set(META.swr, String(answer.staleWhileRevalidateSeconds));
    headers.set(META.tags, JSON.stringify(answer.tags));
    await this.cache.put(new Request(key), new Response(answer.body.slice(0), { status: answer.status, headers }));
  }
}
