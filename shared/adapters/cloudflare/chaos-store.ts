import { DurableObject } from 'cloudflare:workers';
import { CachedChaosSource } from '../../chaos/cached-chaos-source';
import type { ChaosSettings, ChaosSource } from '../../chaos/chaos-settings';

/**
 * One service's chaos settings, shared by all its isolates: a Durable Object (one per service,
 * named "settings") so a switch flipped through any isolate reaches every isolate. Each service
 * worker binds it as `CHAOS` and re-exports this class.
 */
export class ChaosStore extends DurableObject implements ChaosSource {
  async get(): Promise<ChaosSettings | null> {
    return (await this.ctx.storage.get<ChaosSettings>('settings')) ?? null;
  }

  async set(settings: ChaosSettings): Promise<void> {
    await this.ctx.storage.put('settings', settings);
  }

  async clear(): Promise<void> {
    await this.ctx.storage.delete('settings');
  }
}

export interface ChaosBindings {
  CHAOS: DurableObjectNamespace<ChaosStore>;
  /** How often an isolate re-reads the settings; default 1000 ms. */
  CHAOS_REFRESH_MS?: string;
}

/** One cached source per namespace (per isolate): module scope outlives requests. */
const sources = new WeakMap<object, CachedChaosSource>();

/** The isolate's cached view of the service's chaos settings. */
export function durableChaosSource(env: ChaosBindings): ChaosSource {
  let source = sources.get(env.CHAOS);
  if (!source) {
    const refreshMs = Number(env.CHAOS_REFRESH_MS ?? 1_000);
    const namespace = env.CHAOS;
    // A stub belongs to the request that made it (workerd refuses I/O across requests), so each
    // read makes its own; the namespace itself is the isolate's.
    const stub = () => namespace.get(namespace.idFromName('settings'));
    const store: ChaosSource = { get: () => stub().get(), set: (settings) => stub().set(settings), clear: () => stub().clear() };
    source = new CachedChaosSource(store, Number.isFinite(refreshMs) && refreshMs >= 0 ? refreshMs : 1_000);
    sources.set(env.CHAOS, source);
  }
  return source;
}
