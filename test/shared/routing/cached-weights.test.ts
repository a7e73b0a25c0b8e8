import { describe, expect, it } from 'vitest';
import { CachedWeights, type StoredSplit, type WeightsStore } from '../../../shared/routing/cached-weights';
import type { VersionWeights } from '../../../shared/routing/weighted-choice';

/** A store shared by several "isolates" (CachedWeights instances), counting its reads; it keeps allow lists a split leaves out, as the Durable Object does. */
function sharedStore(initial: VersionWeights | null = null) {
  let split: StoredSplit | null = initial ? { weights: initial } : null;
  let failing = false;
  const store = {
    reads: 0,
    async get() {
      store.reads++;
      if (failing) throw new Error('store down');
      return split;
    },
    async set(next: StoredSplit) {
      if (failing) throw new Error('store down');
      const allow = next.allow ?? split?.allow;
      split = allow ? { weights: { ...next.weights }, allow } : { weights: { ...next.weights } };
      return split;
    },
    fail: (on: boolean) => (failing = on),
  } satisfies WeightsStore & Record<string, unknown>;
  return store;
}

const DEFAULTS = { v1: 100, v2: 0 };

function isolate(store: WeightsStore, clock: { now: number }, options: { accepts?: (w: VersionWeights) => boolean } = {}) {
  return new CachedWeights({ store, defaults: DEFAULTS, salt: 'catalog', refreshMs: 1_000, now: () => clock.now, ...options });
}

describe('CachedWeights', () => {
  it('uses the defaults until weights are stored, and reads the store at most once per refreshMs', async () => {
    const store = sharedStore();
    const clock = { now: 0 };
    const weights = isolate(store, clock);
    expect((await weights.current()).weights).toEqual(DEFAULTS);
    clock.now = 999;
    await weights.current();
    await weights.current();
    expect(store.reads).toBe(1);
    clock.now = 1_000;
    await weights.current();
    expect(store.reads).toBe(2);
  });

  it('uses a change made through it at once; another isolate sees it within refreshMs', async () => {
    const store = sharedStore();
    const clock = { now: 0 };
    const a = isolate(store, clock);
    const b = isolate(store, clock);
    await a.current();
    await b.current();
    await a.set({ v1: 0, v2: 100 });
    expect((await a.current()).choose('anyone')).toBe('v2');
    // b trusts what it read for refreshMs...
    clock.now = 500;
    expect((await b.current()).weights).toEqual(DEFAULTS);
    // ...then reads again.
    clock.now = 1_000;
    expect((await b.current()).weights).toEqual({ v1: 0, v2: 100 });
  });

  it('reads again whenever asked with maxAgeMs 0 (what an operator is shown)', async () => {
    const store = sharedStore({ v1: 40, v2: 60 });
    const clock = { now: 0 };
    const weights = isolate(store, clock);
    await weights.current();
    await weights.current(undefined, 0);
    expect(store.reads).toBe(2);
  });

  it('keeps the last weights it saw while the store cannot be read, and says so', async () => {
    const store = sharedStore({ v1: 30, v2: 70 });
    const clock = { now: 0 };
    const weights = isolate(store, clock);
    await weights.current();
    store.fail(true);
    clock.now = 5_000;
    const problems: string[] = [];
    expect((await weights.current((problem) => problems.push(problem))).weights).toEqual({ v1: 30, v2: 70 });
    expect(problems).toEqual(['weights unreadable; keeping the last ones seen']);
    // ...and does not ask the broken store on every request: once per refreshMs.
    await weights.current();
    expect(store.reads).toBe(2);
    // An isolate that never read them starts from the defaults.
    expect((await isolate(store, clock).current()).weights).toEqual(DEFAULTS);
  });

  it('a store that does not answer costs at most readTimeoutMs, and the last weights are kept', async () => {
    const clock = { now: 0 };
    const hanging: WeightsStore = { get: () => new Promise(() => undefined), set: async (split) => split };
    const weights = new CachedWeights({ store: hanging, defaults: DEFAULTS, salt: 'catalog', refreshMs: 1_000, readTimeoutMs: 5, now: () => clock.now });
    const problems: string[] = [];
    expect((await weights.current((p) => problems.push(p))).weights).toEqual(DEFAULTS);
    expect(problems).toEqual(['weights unreadable; keeping the last ones seen']);
  });

  it('does not change its view when storing fails', async () => {
    const store = sharedStore();
    const clock = { now: 0 };
    const weights = isolate(store, clock);
    store.fail(true);
    await expect(weights.set({ v1: 0, v2: 100 })).rejects.toThrow('store down');
    store.fail(false);
    expect((await weights.current()).weights).toEqual(DEFAULTS);
  });

  it('falls back to the defaults for stored weights the route refuses (a version renamed by a deploy)', async () => {
    const store = sharedStore({ v1: 50, v3: 50 });
    const problems: string[] = [];
    const weights = isolate(store, { now: 0 }, { accepts: (w) => Object.keys(w).sort().join() === 'v1,v2' });
    expect((await weights.current((problem) => problems.push(problem))).weights).toEqual(DEFAULTS);
    expect(problems[0]).toMatch(/do not fit the route's versions/);
  });

  it('refuses weights that could never be used, at construction and on set', async () => {
    const clock = { now: 0 };
    expect(() => new CachedWeights({ store: sharedStore(), defaults: { v1: 60, v2: 60 }, salt: 's', refreshMs: 1_000 })).toThrow(/add up to 100/);
    const store = sharedStore();
    await expect(isolate(store, clock).set({ v1: 50.5, v2: 49.5 })).rejects.toThrow(/whole percent/);
    expect(await store.get()).toBeNull();
  });

  it('sends allow-listed users to their version whatever the weights, and keeps the lists when only weights change', async () => {
    const store = sharedStore();
    const clock = { now: 0 };
    const a = isolate(store, clock);
    const b = isolate(store, clock);
    await a.set({ v1: 100, v2: 0 }, { v2: ['usr_staff_1', 'usr_staff_2'] });
    const choice = await a.current();
    expect(choice.allowedVersion('usr_staff_1')).toBe('v2');
    expect(choice.allowedVersion('usr_customer')).toBeUndefined();
    expect(choice.choose('usr_staff_1')).toBe('v1');
    // A rollout step moves the weights only: the staff stay on v2, in every isolate.
    await a.set({ v1: 90, v2: 10 });
    clock.now = 1_000;
    expect((await b.current()).allow).toEqual({ v2: ['usr_staff_1', 'usr_staff_2'] });
    expect((await b.current()).weights).toEqual({ v1: 90, v2: 10 });
    // Empty lists clear them.
    await a.set({ v1: 100, v2: 0 }, {});
    expect((await a.current()).allowedVersion('usr_staff_1')).toBeUndefined();
  });

  it('refuses allow lists naming an unknown version or one user on two versions, storing nothing', async () => {
    const store = sharedStore();
    const weights = isolate(store, { now: 0 });
    await expect(weights.set({ v1: 100, v2: 0 }, { v3: ['usr_1'] })).rejects.toThrow(/unknown version/);
    await expect(weights.set({ v1: 100, v2: 0 }, { v1: ['usr_1'], v2: ['usr_1'] })).rejects.toThrow(/a user goes to one version/);
    expect(await store.get()).toBeNull();
  });
});
