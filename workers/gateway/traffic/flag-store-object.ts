import { DurableObject } from 'cloudflare:workers';
import type { FeatureFlag } from '../../../shared/flags/feature-flag';
import type { GatewayBindings } from '../env';

/** A flag an operator set, and when. */
export interface StoredFlag {
  definition: FeatureFlag;
  updatedAt: string;
}

/** What the object holds: the operator's flags by key, and a revision that grows with every change. */
export interface StoredFlags {
  flags: Record<string, StoredFlag>;
  revision: number;
}

/** Why a change was refused: the set would pass its bound (the gateway answers 409). */
export type FlagChange = { kind: 'stored'; stored: StoredFlags } | { kind: 'too-many'; limit: number };

/**
 * The feature flags operators set at run time (`PUT /_ops/flags/:key`), for every gateway
 * isolate: one object, named "flags". It holds only what operators changed; the `FEATURE_FLAGS`
 * var stays the defaults (and the seed), and a flag stored here replaces the var's flag of the
 * same key (traffic/live-flags.ts merges them). Isolates read it through a per-isolate cache
 * refreshed in the background, so it is asked about twice a second per busy isolate at most,
 * never once per request. One object is enough: a few reads a second per isolate, and changes
 * are rare. The gateway validates definitions before they get here.
 */
export class FlagStore extends DurableObject<GatewayBindings> {
  async read(): Promise<StoredFlags> {
    return (await this.ctx.storage.get<StoredFlags>('state')) ?? { flags: {}, revision: 0 };
  }

  /**
   * Stores one flag, unless that makes more than `limit` flags counting the defaults' keys
   * (`defaultKeys`): checked and written here, in one turn of the object, so two operators adding
   * flags at once cannot both squeeze past the bound.
   */
  async put(definition: FeatureFlag, defaultKeys: string[], limit: number): Promise<FlagChange> {
    const state = await this.read();
    const keys = new Set([...defaultKeys, ...Object.keys(state.flags), definition.key]);
    if (keys.size > limit) return { kind: 'too-many', limit };
    state.flags[definition.key] = { definition, updatedAt: new Date().toISOString() };
    state.revision += 1;
    await this.ctx.storage.put('state', state);
    return { kind: 'stored', stored: state };
  }

  /** Forgets the operator's flag: the default (if the var has one) applies again. False when there was none. */
  async remove(key: string): Promise<{ removed: boolean; stored: StoredFlags }> {
    const state = await this.read();
    if (!Object.hasOwn(state.flags, key)) return { removed: false, stored: state };
    delete state.flags[key];
    state.revision += 1;
    await this.ctx.storage.put('state', state);
    return { removed: true, stored: state };
  }

  /** Every operator flag gone (tests). */
  async clear(): Promise<void> {
    await this.ctx.storage.deleteAll();
  }
}
