import { DurableObject } from 'cloudflare:workers';
import type { GatewayBindings } from '../env';

/**
 * One cache tag's version counter (one object per tag, named `tag:<tag>`), the source of truth
 * for every gateway isolate. Purging the tag is a bump; an answer stored under an older version is
 * a MISS (tag-versions.ts). The new version is at least the current time in ms, so versions only
 * grow, even if this object's storage were ever lost and it started again from nothing.
 *
 * A Durable Object runs one call at a time up to its first await and its storage calls do not let
 * another in (input gates), so concurrent bumps never lose one.
 */
export class CacheTagsObject extends DurableObject<GatewayBindings> {
  private cached: number | undefined;

  async version(): Promise<number> {
    this.cached ??= (await this.ctx.storage.get<number>('version')) ?? 0;
    return this.cached;
  }

  async bump(): Promise<number> {
    const next = Math.max((await this.version()) + 1, Date.now());
    this.cached = next;
    await this.ctx.storage.put('version', next);
    return next;
  }
}
