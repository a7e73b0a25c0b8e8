import { describe, expect, it } from 'vitest';
import { BoundedLru } from '../../../shared/cache/bounded-lru';

describe('BoundedLru', () => {
  it('never holds more than its capacity, evicting the least recently used', () => {
    const lru = new BoundedLru<string, number>(3);
    for (const [i, key] of ['a', 'b', 'c'].entries()) lru.set(key, i);
    expect(lru.get('a')).toBe(0); // a is now the most recently used
    lru.set('d', 3);
    expect(lru.size).toBe(3);
    expect(lru.get('b')).toBeUndefined();
    expect([lru.get('a'), lru.get('c'), lru.get('d')]).toEqual([0, 2, 3]);
    for (let i = 0; i < 1_000; i++) lru.set(`k${i}`, i);
    expect(lru.size).toBe(3);
  });

  it('replacing a value keeps one entry; delete removes it', () => {
    const lru = new BoundedLru<string, number>(2);
    lru.set('a', 1);
    lru.set('a', 2);
    expect(lru.size).toBe(1);
    expect(lru.get('a')).toBe(2);
    lru.delete('a');
    expect(lru.get('a')).toBeUndefined();
  });

  it('refuses a capacity that is not a positive integer', () => {
    for (const capacity of [0, -1, 1.5, Number.NaN]) expect(() => new BoundedLru(capacity)).toThrow(RangeError);
  });
});
