import { DurableObject } from 'cloudflare:workers';
import type { VersionWeights } from '../../../shared/routing/weighted-choice';
import type { WeightsStore } from '../../../shared/routing/cached-weights';
import type { GatewayBindings } from '../env';

/**
 * One versioned route's weights (canary / blue-green), the source of truth for every gateway
 * isolate: one object per route, named after it. Isolates read it through a per-isolate cache
 * (route-versions.ts), so it is asked about once a second per isolate, not once per request.
 * Nothing stored means the route's default weights. The gateway validates weights before they
 * get here (`PUT /_ops/routes/:name`).
 */
export class RouteWeights extends DurableObject<GatewayBindings> implements WeightsStore {
  async get(): Promise<VersionWeights | null> {
    return (await this.ctx.storage.get<VersionWeights>('weights')) ?? null;
  }

  async set(weights: VersionWeights): Promise<void> {
    await this.ctx.storage.put('weights', { ...weights });
  }

  /** Back to the route's defaults (tests, and an operator who wants the code's split back). */
  async clear(): Promise<void> {
    await this.ctx.storage.delete('weights');
  }
}
