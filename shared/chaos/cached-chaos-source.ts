import type { ChaosSettings, ChaosSource } from './chaos-settings';

/**
 * A `ChaosSource` in front of a shared store (a Durable Object, Redis): each isolate reads the
 * store at most once per `refreshMs`, so chaos costs nothing per request and reaches every isolate
 * within `refreshMs` of being set. Reads are not shared between concurrent requests: on workerd
 * a request must not wait on I/O another request started.
 */
export class CachedChaosSource implements ChaosSource {
  private cached: { settings: ChaosSettings | null; at: number } | null = null;

  constructor(
    private readonly store: ChaosSource,
    private readonly refreshMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  async get(): Promise<ChaosSettings | null> {
    if (this.cached && this.now() - this.cached.at < this.refreshMs) return this.cached.settings;
    const settings = await this.store.get();
    this.cached = { settings, at: this.now() };
    return settings;
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
