/**
 * A map bounded to `capacity` entries that evicts the least recently used first: the per-isolate
 * caches of verified and signed tokens, which must not grow with the number of callers.
 *
 * Hand-written rather than a library (lru-cache): a Map already iterates in insertion order, so
 * moving an entry to the end on every hit makes it an LRU in a few lines, and a dependency would
 * add to every worker's bundle for the same thing. Expiry is the caller's (each entry knows when
 * it stops being valid), so no timers run here.
 */
export class BoundedLru<K, V> {
  private readonly entries = new Map<K, V>();

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`capacity must be a positive integer, not ${capacity}`);
  }

  get size(): number {
    return this.entries.size;
  }

  /** The value, now the most recently used; undefined when absent. */
  get(key: K): V | undefined {
    const value = this.entries.get(key);
    if (value === undefined) return undefined;
    this.entries.delete(key);
    this.entries.set(key, value);
    return value;
  }

  /** Stores the value as the most recently used, evicting the least recently used past capacity. */
  set(key: K, value: V): void {
    this.entries.delete(key);
    this.entries.set(key, value);
    if (this.entries.size > this.capacity) this.entries.delete(this.entries.keys().next().value as K);
  }

  delete(key: K): void {
    this.entries.delete(key);
  }
}
