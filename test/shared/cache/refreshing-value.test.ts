import { describe, expect, it } from 'vitest';
import { RefreshingValue } from '../../../shared/cache/refreshing-value';

/** A store several "isolates" read, counting reads; `deferred` collects background work as waitUntil would. */
function setup() {
  const clock = { now: 0 };
  const store = { value: 1, reads: 0, failing: false };
  const deferred: Promise<unknown>[] = [];
  const value = new RefreshingValue<number>({
    read: async () => {
      store.reads++;
      if (store.failing) throw new Error('down');
      return store.value;
    },
    freshMs: 500,
    maxStaleMs: 1_000,
    now: () => clock.now,
  });
  const get = () => value.get((work) => deferred.push(work));
  return { clock, store, deferred, value, get };
}

describe('RefreshingValue', () => {
  it('reads once, then serves fresh values without reading', async () => {
    const { store, get, clock } = setup();
    expect(await get()).toBe(1);
    clock.now = 499;
    expect(await get()).toBe(1);
    expect(store.reads).toBe(1);
  });

  it('serves a stale value at once and refreshes it in the background, one read at a time', async () => {
    const { store, get, clock, deferred } = setup();
    await get();
    store.value = 2;
    clock.now = 600;
    expect(await get()).toBe(1);
    expect(await get()).toBe(1);
    expect(deferred).toHaveLength(1);
    await Promise.all(deferred);
    expect(await get()).toBe(2);
    expect(store.reads).toBe(2);
  });

  it('never uses a value older than maxStaleMs: past it, a request waits for a read', async () => {
    const { store, get, clock, deferred } = setup();
    await get();
    store.value = 3;
    clock.now = 1_000;
    expect(await get()).toBe(3);
    expect(deferred).toHaveLength(0);
  });

  it('keeps the last value when the store fails, and rejects before it ever read one', async () => {
    const { store, get, clock } = setup();
    store.failing = true;
    await expect(get()).rejects.toThrow('down');
    store.failing = false;
    await get();
    store.failing = true;
    clock.now = 5_000;
    expect(await get()).toBe(1);
  });

  it('uses a value set through it at once', async () => {
    const { value, get, store } = setup();
    value.set(9);
    expect(await get()).toBe(9);
    expect(store.reads).toBe(0);
  });
});
