import type { GatewayBindings } from '../workers/gateway/env';
import { runOriginHealthChecks, type OriginHealthSnapshot, type OriginHealthStore } from '../workers/gateway/traffic/origin-health';
import { configuredPools } from '../workers/gateway/traffic/origin-pool';

/**
 * Origin health off Cloudflare: the checks' results in this process's memory (one process is one
 * isolate here, so nothing needs sharing; with several processes each checks for itself, which
 * costs a health request per origin per process per interval), and a timer in place of the
 * Cloudflare cron.
 */
export class MemoryOriginHealth implements OriginHealthStore {
  private snapshot: OriginHealthSnapshot = {};

  async read(): Promise<OriginHealthSnapshot> {
    return this.snapshot;
  }

  async replace(snapshot: OriginHealthSnapshot): Promise<void> {
    this.snapshot = snapshot;
  }
}

/**
 * Checks every pool's origins now and then every `intervalMs` (none when no pool has an origin).
 * The timer does not keep the process alive; `stop()` ends it.
 */
export function startOriginHealthTimer(env: GatewayBindings, store: OriginHealthStore, intervalMs: number, log: (line: Record<string, unknown>) => void): { stop(): void } {
  const pools = configuredPools(env).filter((pool) => pool.origins.length > 0);
  if (pools.length === 0) return { stop: () => undefined };
  const run = () =>
    runOriginHealthChecks(pools, store).then(
      (snapshot) => {
        const down = Object.entries(snapshot).filter(([, record]) => record.status === 'down').map(([key]) => key);
        if (down.length > 0) log({ level: 'warn', service: 'gateway', msg: 'origins failing their health check', origins: down });
      },
      (error: unknown) => log({ level: 'warn', service: 'gateway', msg: 'origin health checks failed', error: String(error) }),
    );
  void run();
  const timer = setInterval(run, intervalMs);
  (timer as { unref?: () => void }).unref?.();
  return { stop: () => clearInterval(timer) };
}
