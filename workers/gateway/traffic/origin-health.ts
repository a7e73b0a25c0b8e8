import type { OriginRoute, OriginSpec } from '../routes';
import { originUrl } from './origin-url';

/**
 * Active health of HTTP origins: a scheduled `GET <healthPath>` per origin (the gateway's cron on
 * Cloudflare, index.ts; a timer on Bun and Deno, runtimes/gateway-app.ts), its results kept where
 * every isolate reads them (the `OriginHealthRegistry` Durable Object on Cloudflare; memory on
 * Bun and Deno), through a per-isolate cache. An origin whose last check failed is skipped by its
 * pool (origin-pool.ts) until a check passes again.
 */

export interface OriginHealthRecord {
  status: 'up' | 'down';
  /** When the check ended (ms since the epoch). */
  checkedAt: number;
  latencyMs: number;
  /** The health endpoint's status code, when it answered. */
  httpStatus?: number;
  /** Why it is down, when it did not answer (timeout, connection refused). */
  error?: string;
}

/** Every origin's last check, by `originKey(route, origin)`. */
export type OriginHealthSnapshot = Record<string, OriginHealthRecord>;

/** Where the checks' results live for every isolate (platform.ts `originHealth`). */
export interface OriginHealthStore {
  read(): Promise<OriginHealthSnapshot>;
  /** Replaces every record: origins no longer configured drop out (the registry's retention rule). */
  replace(snapshot: OriginHealthSnapshot): Promise<void>;
}

/** An origin's key in the registry and its breaker's name: `legacy~monolith`. */
export const originKey = (route: string, origin: string): string => `${route}~${origin}`;

/**
 * A check older than this says nothing any more (the schedule stopped): the origin counts as
 * unchecked, which is healthy, so a stopped cron never keeps an origin out for good. The cron runs
 * every minute; five missed runs is a stopped schedule, not a slow one.
 */
export const HEALTH_STALE_AFTER_MS = 5 * 60_000;

/** Whether the registry says the origin may get traffic: checked up, never checked, or checked too long ago. */
export function activelyHealthy(record: OriginHealthRecord | undefined, now: number): boolean {
  return record === undefined || record.status === 'up' || now - record.checkedAt > HEALTH_STALE_AFTER_MS;
}

/** How long one health check may take before the origin counts as down. */
export const HEALTH_CHECK_TIMEOUT_MS = 2_000;

/** A pool route and the origins it has in this deployment (origin-pool.ts `poolOrigins`). */
export interface PoolOrigins {
  route: OriginRoute;
  origins: readonly OriginSpec[];
}

/**
 * Checks every origin of every pool at once: `GET <url><healthPath>`; any 2xx within the timeout
 * is up, anything else down. Never throws: an origin that cannot be reached is a record saying so.
 */
export async function checkOrigins(
  pools: readonly PoolOrigins[],
  options: { timeoutMs?: number; fetch?: typeof fetch; now?: () => number } = {},
): Promise<OriginHealthSnapshot> {
  const send = options.fetch ?? fetch;
  const now = options.now ?? Date.now;
  const timeoutMs = options.timeoutMs ?? HEALTH_CHECK_TIMEOUT_MS;
  const checks = pools.flatMap(({ route, origins }) =>
    origins.map(async (origin): Promise<[string, OriginHealthRecord]> => {
      const started = now();
      try {
        const response = await send(originUrl(origin.url, route.pool.healthPath ?? '/health'), { signal: AbortSignal.timeout(timeoutMs), redirect: 'manual' });
        await response.body?.cancel();
        const record: OriginHealthRecord = { status: response.ok ? 'up' : 'down', checkedAt: now(), latencyMs: now() - started, httpStatus: response.status };
        return [originKey(route.name, origin.name), record];
      } catch (error) {
        const reason = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
        return [originKey(route.name, origin.name), { status: 'down', checkedAt: now(), latencyMs: now() - started, error: reason.slice(0, 200) }];
      }
    }),
  );
  return Object.fromEntries(await Promise.all(checks));
}

/** Runs the checks and stores their results for every isolate; what the cron (or the timer) calls. */
export async function runOriginHealthChecks(pools: readonly PoolOrigins[], store: OriginHealthStore, options?: Parameters<typeof checkOrigins>[1]): Promise<OriginHealthSnapshot> {
  const snapshot = await checkOrigins(pools, options);
  await store.replace(snapshot);
  return snapshot;
}

/**
 * The registry as one isolate sees it, read at most once per `refreshMs` (as canary weights are:
 * route-versions.ts), so picking an origin costs no remote call per request. A registry that
 * cannot be read, or not within `readTimeoutMs`, keeps the last snapshot (empty, at first: every
 * origin unchecked, so healthy) until the next attempt. Reads are not shared between requests: on
 * workerd a request must not wait on I/O another request started.
 */
export class CachedOriginHealth {
  private cached: { snapshot: OriginHealthSnapshot; at: number } | null = null;
  private readonly now: () => number;

  constructor(private readonly options: { store: () => OriginHealthStore; refreshMs: number; readTimeoutMs?: number; now?: () => number }) {
    this.now = options.now ?? Date.now;
  }

  async current(onProblem?: (problem: string, error?: unknown) => void): Promise<OriginHealthSnapshot> {
    const now = this.now();
    if (this.cached && now - this.cached.at < this.options.refreshMs) return this.cached.snapshot;
    let snapshot: OriginHealthSnapshot;
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      const deadline = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error('no answer in time')), this.options.readTimeoutMs ?? 250);
      });
      snapshot = await Promise.race([this.options.store().read(), deadline]);
    } catch (error) {
      onProblem?.('origin health unreadable; keeping the last snapshot seen', error);
      snapshot = this.cached?.snapshot ?? {};
    } finally {
      clearTimeout(timer);
    }
    this.cached = { snapshot, at: this.now() };
    return snapshot;
  }
}
