/**
 * A cached HTTP answer and the rules that judge it: how old it is, whether it is fresh, stale
 * (still servable while a refresh runs: stale-while-revalidate, RFC 5861) or expired, and whether
 * a tag it was stored under has been invalidated since. Pure data and pure functions: the stores
 * (Cache API, Redis) keep it in their own shape and the gateway decides what to do with a verdict.
 */

export interface CachedAnswer {
  status: number;
  /** The upstream's headers, minus those that describe one exchange (date, request id, ...). */
  headers: [string, string][];
  body: ArrayBuffer;
  /** When it was stored (ms since the epoch). */
  storedAt: number;
  /** Fresh for this long after `storedAt`. */
  ttlSeconds: number;
  /** Then still servable, stale, for this long while one refresh runs. */
  staleWhileRevalidateSeconds: number;
  /** Each tag it was stored under, with the tag's version at the time the answer was fetched. */
  tags: Record<string, number>;
}

export type Freshness = 'fresh' | 'stale' | 'expired';

/** Whole seconds since the answer was stored (the `Age` header, RFC 9111 §5.1). */
export const ageSeconds = (answer: CachedAnswer, now: number): number => Math.max(0, Math.floor((now - answer.storedAt) / 1000));

export function freshness(answer: CachedAnswer, now: number): Freshness {
  const age = now - answer.storedAt;
  if (age < answer.ttlSeconds * 1000) return 'fresh';
  if (age < (answer.ttlSeconds + answer.staleWhileRevalidateSeconds) * 1000) return 'stale';
  return 'expired';
}

/** How long a store should keep it at most: after that no one can be served it. */
export const lifetimeSeconds = (answer: Pick<CachedAnswer, 'ttlSeconds' | 'staleWhileRevalidateSeconds'>): number =>
  Math.max(1, Math.ceil(answer.ttlSeconds + answer.staleWhileRevalidateSeconds));

/**
 * Whether every tag the request is cached under still has the version the answer was stored
 * with. Inequality, not "older than": a counter that was lost and restarted must not make an old
 * answer look current. A tag the answer does not carry (the route's tags changed) fails too.
 */
export function tagsCurrent(answer: CachedAnswer, current: Record<string, number>): boolean {
  const names = Object.keys(current);
  if (names.length !== Object.keys(answer.tags).length) return false;
  return names.every((name) => answer.tags[name] === current[name]);
}

/** Whether one verdict is better to serve than another (fresh beats stale beats nothing). */
export const betterThan = (a: Freshness | null, b: Freshness | null): boolean => rank(a) > rank(b);
const rank = (f: Freshness | null) => (f === 'fresh' ? 2 : f === 'stale' ? 1 : 0);

// ---- JSON form (for stores that keep text, such as Redis) ----

export interface EncodedAnswer {
  v: 1;
  status: number;
  headers: [string, string][];
  /** The body, base64. */
  body: string;
  storedAt: number;
  ttl: number;
  swr: number;
  tags: Record<string, number>;
}

export function encodeAnswer(answer: CachedAnswer): EncodedAnswer {
  return {
    v: 1,
    status: answer.status,
    headers: answer.headers,
    body: toBase64(new Uint8Array(answer.body)),
    storedAt: answer.storedAt,
    ttl: answer.ttlSeconds,
    swr: answer.staleWhileRevalidateSeconds,
    tags: answer.tags,
  };
}

/** The answer from its JSON form, or null for anything that is not one (a foreign or old value). */
export function decodeAnswer(value: unknown): CachedAnswer | null {
  if (typeof value !== 'object' || value === null) return null;
  const e = value as Partial<EncodedAnswer>;
  if (e.v !== 1 || typeof e.status !== 'number' || typeof e.body !== 'string' || typeof e.storedAt !== 'number') return null;
  if (typeof e.ttl !== 'number' || typeof e.swr !== 'number' || !Array.isArray(e.headers) || typeof e.tags !== 'object' || e.tags === null) return null;
  if (!e.headers.every((h) => Array.isArray(h) && h.length === 2 && typeof h[0] === 'string' && typeof h[1] === 'string')) return null;
  let bytes: Uint8Array;
  try {
    bytes = fromBase64(e.body);
  } catch {
    return null;
  }
  return {
    status: e.status,
    headers: e.headers,
    body: bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer,
    storedAt: e.storedAt,
    ttlSeconds: e.ttl,
    staleWhileRevalidateSeconds: e.swr,
    tags: e.tags,
  };
}

// btoa/atob work on "binary strings"; chunked so a large body does not overflow the call stack.
function toBase64(bytes: Uint8Array): string {
  let binary = '';
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(binary);
}

function fromBase64(text: string): Uint8Array {
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}
