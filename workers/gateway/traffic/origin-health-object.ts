import { DurableObject } from 'cloudflare:workers';
import type { GatewayBindings } from '../env';
import type { OriginHealthSnapshot, OriginHealthStore } from './origin-health';

/**
 * The registry of HTTP origins' health: one object (`registry`) holding the last scheduled check
 * of every origin of every pool, written by the gateway's cron and read by every isolate through
 * a short per-isolate cache (origin-health.ts), never once per request. Each run replaces the
 * whole record, so an origin taken out of ORIGIN_POOLS leaves it at the next run: it never grows
 * past the origins configured.
 */
export class OriginHealthRegistry extends DurableObject<GatewayBindings> implements OriginHealthStore {
  async read(): Promise<OriginHealthSnapshot> {
    return (await this.ctx.storage.get<OriginHealthSnapshot>('origins')) ?? {};
  }

  async replace(snapshot: OriginHealthSnapshot): Promise<void> {
    await this.ctx.storage.put('origins', snapshot);
  }
}
