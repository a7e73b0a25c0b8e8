import type { ChaosSettings, ChaosSource } from './chaos-settings';

/**
 * A `ChaosSource` in front of a shared store (a Durable Object, Redis): each isolate reads the
 * store at most once per `refreshMs`, so chaos costs nothing per request and reaches every isolate
 * within `refreshMs` of being set. Concurrent requests share one read.
 */
export class CachedChaosSource implements ChaosSource {
  private cached: { settings: ChaosSettings | null; at: number } | null = null;
  private reading: Promise<ChaosSettings | null> | null = null;

  constructor(
    private readonly store: ChaosSource,
    private readonly refreshMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  get(): Promise<ChaosSettings | null> {
    if (this.cached && this.now() - this.cached.at < this.refreshMs) return Promise.resolve(this.cached.settings);
    this.reading ??= this.store
      .get()
      .then((settings) => {
        this.cached = { settings, at: this.now() };
        return settings;
      })
      .finally(() => {
        this.reading = null;
      });
    return this.reading;
  }

  async set(settings: ChaosSettings): Promise<void> {
    await this.store.set(settings);
    this.cached = { settings, at: this.now() };
  }

  async clear(): Promise<void> {
    await this.store.clear();
    this.cached = { settings: null, at: this.now() };
  }
}
