/** How a `RefreshingValue` is read: the store's read, and how long each answer may be used. */
export interface RefreshingValueOptions<T> {
  /** Reads the value from where every isolate keeps it (a Durable Object, Redis). */
  read: () => Promise<T>;
  /** Until this age a value is used as it is, with no read at all. */
  freshMs: number;
  /**
   * Until this age a value is still used, and the first request to see it that old starts one
   * read in the background (stale-while-revalidate); older than this, a request waits for a read.
   * So no caller ever uses a value older than `maxStaleMs` (plus one read), and an isolate with
   * steady traffic never makes a request wait.
   */
  maxStaleMs: number;
  /** How long a read may take before the last value is kept instead (default 250 ms). */
  readTimeoutMs?: number;
  /** A background read not finished after this long is given up on, so a new one may start (default 5 s). */
  abandonAfterMs?: number;
  now?: () => number;
}

/**
 * One value every isolate must see within a bound (the feature flags), read per isolate at most
 * once per `freshMs`, refreshed in the background while in use, so a request almost never waits on
 * the store. The shape of `CachedWeights` (shared/routing/cached-weights.ts) with
 * stale-while-revalidate added: weights are read once a second by requests that wait on it;
 * flags ride on every call to every service, so a read must not sit on a request's path.
 *
 * On workerd a request must not wait on I/O another request started: a background read is handed
 * to the caller's `defer` (its `waitUntil`) and nobody awaits it; it only replaces the value when
 * it lands. A read that fails or times out keeps the last value (reported through `onProblem`),
 * or, before any read succeeded, rejects: the caller decides what "no value" means.
 */
export class RefreshingValue<T> {
  private value: { value: T; at: number } | null = null;
  /** When the background read under way started; null when none is. */
  private refreshingSince: number | null = null;
  private readonly now: () => number;

  constructor(private readonly options: RefreshingValueOptions<T>) {
    this.now = options.now ?? Date.now;
  }

  /**
   * The value: the cached one while fresh; the cached one and a background read when stale; a
   * read waited for when there is none or it is past `maxStaleMs` (`maxAgeMs` lowers that bound:
   * 0 always reads, for an operator who must see the store's value).
   */
  async get(defer: (work: Promise<unknown>) => void, onProblem?: (problem: string, error?: unknown) => void, maxAgeMs?: number): Promise<T> {
    const now = this.now();
    const cached = this.value;
    const age = cached ? now - cached.at : Infinity;
    if (cached && maxAgeMs === undefined && age < this.options.freshMs) return cached.value;
    if (cached && age < (maxAgeMs ?? this.options.maxStaleMs)) {
      if (maxAgeMs === undefined) this.refreshInBackground(defer, onProblem);
      return cached.value;
    }
    try {
      return await this.readNow();
    } catch (error) {
      if (!this.value) throw error;
      onProblem?.('unreadable; keeping the last value seen', error);
      // Kept as if read now, so the next requests do not each wait on a store that is down.
      this.value = { value: this.value.value, at: this.now() };
      return this.value.value;
    }
  }

  /** Uses `value` here at once (a change made through this isolate), as if just read. */
  set(value: T): void {
    this.value = { value, at: this.now() };
  }

  private async readNow(): Promise<T> {
    const started = this.now();
    const value = await withDeadline(this.options.read(), this.options.readTimeoutMs ?? 250);
    // A newer value may have landed meanwhile (a `set`, or another read): the last started wins.
    if (!this.value || this.value.at <= started) this.value = { value, at: this.now() };
    return this.value.value;
  }

  private refreshInBackground(defer: (work: Promise<unknown>) => void, onProblem?: (problem: string, error?: unknown) => void): void {
    const now = this.now();
    if (this.refreshingSince !== null && now - this.refreshingSince < (this.options.abandonAfterMs ?? 5_000)) return;
    const since = now;
    this.refreshingSince = since;
    defer(
      this.readNow()
        .catch((error: unknown) => onProblem?.('background refresh failed; keeping the last value seen', error))
        .finally(() => {
          if (this.refreshingSince === since) this.refreshingSince = null;
        }),
    );
  }
}

/** The read's answer, or a rejection after `ms`: a slow store costs a bounded wait. */
function withDeadline<T>(read: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([read, deadline]).finally(() => clearTimeout(timer));
}
