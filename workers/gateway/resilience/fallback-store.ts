/**
 * Answers kept in an isolate's memory for fallbacks: the last good answer per request (for
 * `last-good`) and per degraded source. Bounded in entries and bytes; oldest-used go first.
 * Memory, not the Cache API: a fallback must work exactly when everything else is failing, and
 * it needs no I/O. Only answers that are safe to show anyone are kept (see `isShareable`).
 */

export interface StoredAnswer {
  status: number;
  headers: [string, string][];
  body: ArrayBuffer;
  /** When it was stored (ms since the epoch). */
  at: number;
}

export const MAX_STORED_BODY_BYTES = 256 * 1024;

/** Whether an answer may be replayed to another caller: a plain public 200, of bounded size. */
export function isShareable(identified: boolean, response: Response): boolean {
  if (identified || response.status !== 200 || response.headers.has('set-cookie')) return false;
  if (/\b(no-store|private)\b/i.test(response.headers.get('cache-control') ?? '')) return false;
  const length = Number(response.headers.get('content-length') ?? 0);
  return length <= MAX_STORED_BODY_BYTES;
}

/** Headers that describe one exchange, not the answer: a replay must not carry another request's. */
const PER_EXCHANGE_HEADERS = new Set(['date', 'traceresponse', 'x-request-id', 'age', 'set-cookie']);

/**
 * Reads a copy of the answer (call with a clone), at most MAX_STORED_BODY_BYTES of it: a body
 * without a content-length is read only until it proves too large, then dropped (null).
 */
export async function storedAnswer(response: Response, now: number): Promise<StoredAnswer | null> {
  const reader = response.body?.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  while (reader) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > MAX_STORED_BODY_BYTES) {
      await reader.cancel();
      return null;
    }
    chunks.push(value);
  }
  const body = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    body.set(chunk, offset);
    offset += chunk.byteLength;
  }
  const headers = [...response.headers].filter(([name]) => !PER_EXCHANGE_HEADERS.has(name.toLowerCase()));
  return { status: response.status, headers, body: body.buffer, at: now };
}

/**
 * Answers by key, least recently used evicted first, bounded in entries and in bytes (so one
 * route cannot take a large share of an isolate's 128 MB whatever its callers send).
 */
export class AnswerStore {
  private readonly entries = new Map<string, StoredAnswer>();
  private bytes = 0;

  constructor(
    private readonly maxEntries = 256,
    private readonly maxBytes = 8 * 1024 * 1024,
  ) {}

  get(key: string, maxAgeMs: number, now: number): StoredAnswer | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    if (now - entry.at > maxAgeMs) {
      this.remove(key);
      return undefined;
    }
    // Map order is insertion order: re-inserting marks it most recently used.
    this.entries.delete(key);
    this.entries.set(key, entry);
    return entry;
  }

  /** When the entry for `key` was stored, without touching its place in the LRU order; undefined when none. */
  storedAt(key: string): number | undefined {
    return this.entries.get(key)?.at;
  }

  set(key: string, answer: StoredAnswer): void {
    this.remove(key);
    this.entries.set(key, answer);
    this.bytes += answer.body.byteLength;
    while (this.entries.size > this.maxEntries || this.bytes > this.maxBytes) {
      const oldest = this.entries.keys().next().value;
      if (oldest === undefined) break;
      this.remove(oldest);
    }
  }

  private remove(key: string): void {
    const entry = this.entries.get(key);
    if (!entry) return;
    this.bytes -= entry.body.byteLength;
    this.entries.delete(key);
  }
}

/** A stable key for a request: path plus sorted query, so `?b=1&a=2` and `?a=2&b=1` are one. */
export function answerKey(path: string, search: string): string {
  const params = new URLSearchParams(search);
  params.sort();
  const query = params.toString();
  return query ? `${path}?${query}` : path;
}
