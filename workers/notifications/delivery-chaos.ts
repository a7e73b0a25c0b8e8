import type { ChaosSettings, ChaosSource } from '../../shared/chaos/chaos-settings';

/**
 * Chaos as a QStash delivery sees it: a failure is always a server error. Chaos settings may name
 * any status from 400 (an operator testing a client's handling of 409, say), but a delivery
 * answered 4xx reads as "this message is bad", which it is not: the fault is ours and passing, so
 * the answer is 503 and QStash retries it later with backoff. Other statuses pass as set.
 */
export function deliveryChaos(source: ChaosSource): ChaosSource {
  return {
    async get(): Promise<ChaosSettings | null> {
      const settings = await source.get();
      return settings && settings.status < 500 ? { ...settings, status: 503 } : settings;
    },
    set: (settings) => source.set(settings),
    clear: () => source.clear(),
  };
}
