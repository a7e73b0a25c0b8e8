import { DurableObject } from 'cloudflare:workers';
import type { VersionAllowLists, VersionWeights } from '../../../shared/routing/weighted-choice';
import type { StoredSplit, WeightsStore } from '../../../shared/routing/cached-weights';
import type { GatewayBindings } from '../env';

/**
 * One versioned route's weights (canary / blue-green), the source of truth for every gateway
 * isolate: one object per route, named after it. Isolates read it through a per-isolate cache
 * (route-versions.ts), so it is asked about once a second per isolate, not once per request.
 * Nothing stored means the route's default weights. The gateway validates weights before they
 * get here (`PUT /_ops/routes/:name`).
 */
export class RouteWeights extends DurableObject<GatewayBindings> implements WeightsStore {
  async get(): Promise<StoredSplit | null> {
    const stored = await this.ctx.storage.get<VersionWeights | VersionAllowLists>(['weights', 'allow']);
    const weights = stored.get('weights') as VersionWeights | undefined;
    if (!weights) return null;
    const allow = stored.get('allow') as VersionAllowLists | undefined;
    return allow ? { weights, allow } : { weights };
  }

  /**
   * New weights, and new allow lists when given (kept otherwise: the automated rollout moves
   * weights only, canary-rollout-object.ts). One `put` of both keys: never one without the other.
   */
  async set(split: StoredSplit): Promise<StoredSplit> {
    const allow = split.allow ?? (await this.ctx.storage.get<VersionAllowLists>('allow'));
    await this.ctx.storage.put(allow ? { weights: { ...split.weights }, allow } : { weights: { ...split.weights } });
    return allow ? { weights: split.weights, allow } : { weights: split.weights };
  }

  /** Back to the route's defaults, no allow lists (tests, and an operator who wants the code's split back). */
  async clear(): Promise<void> {
    await this.ctx.storage.delete(['weights', 'allow']);
  }
}
