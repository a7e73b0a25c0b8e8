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
export function isShareable(request: Request, response: Response): boolean {
  if (response.status !== 200 || response.headers.has('set-cookie')) return false;
  if (/\b(no-store|private)\b/i.test(response.headers.get('cache-control') ?? '')) return false;
  // An answer to an identified caller may hold what only they may see.
  if (request.headers.has('authorization') || request.headers.has('cookie')) return false;
  const length = Number(response.headers.get('content-length') ?? 0);
  return length <= MAX_STORED_BODY_BYTES;
}

/** Reads a copy of the answer (call with a clone); null if its body turns out too large. */
export async function storedAnswer(response: Response, now: number): Promise<StoredAnswer | null> {
  const body = await response.arrayBuffer();
  if (body.byteLength > MAX_STORED_BODY_BYTES) return null;
  return { status: response.status, headers: [...response.headers], body, at: now };
}

export class AnswerStore {
  private readonly entries = new Map<string, StoredAnswer>();

  constructor(private readonly maxEntries = 256) {}

  get(key: string, maxAgeMs: number, now: number): StoredAnswer | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    if (now - entry.at > maxAgeMs) {
      this.entries.delete(key);
      return undefined;
    }
    // Map order is insertion order: re-inserting marks it most recently used.
    this.entries.delete(key);
    this.entries.set(key, entry);
    return entry;
  }

  set(key: string, answer: StoredAnswer): void {
    this.entries.delete(key);
    this.entries.set(key, answer);
    while (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next().value;
      if (oldest === undefined) break;
      this.entries.delete(oldest);
    }
  }
}

/** A stable key for a request: path plus sorted query, so `?b=1&a=2` and `?a=2&b=1` are one. */
export function answerKey(path: string, search: string): string {
  const params = new URLSearchParams(search);
  params.sort();
  const query = params.toString();
  return query ? `${path}?${query}` : path;
}
