import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bucketOf, murmur3x86_32, stableHash } from '../../../shared/routing/stable-hash';

const bytes = (...values: number[]) => Uint8Array.from(values);
const utf8 = (text: string) => new TextEncoder().encode(text);

describe('murmur3x86_32 (MurmurHash3_x86_32)', () => {
  // Published vectors for MurmurHash3_x86_32, checked against the reference C implementation
  // (Python's mmh3.hash, unsigned): every tail length, seeds 0, 1 and 2^32-1, multi-byte UTF-8.
  it.each([
    ['', 0, 0x00000000],
    ['', 1, 0x514e28b7],
    ['', 0xffffffff, 0x81f16f39],
    ['aaaa', 0x9747b28c, 0x5a97808a],
    ['aaa', 0x9747b28c, 0x283e0130],
    ['aa', 0x9747b28c, 0x5d211726],
    ['a', 0x9747b28c, 0x7fa09ea6],
    ['abcd', 0x9747b28c, 0xf0478627],
    ['abc', 0x9747b28c, 0xc84a62dd],
    ['ab', 0x9747b28c, 0x74875592],
    ['Hello, world!', 0x9747b28c, 0x24884cba],
    ['ππππππππ', 0x9747b28c, 0xd58063c1],
    ['The quick brown fox jumps over the lazy dog', 0x9747b28c, 0x2fa826cd],
    ['The quick brown fox jumps over the lazy dog', 0, 0x2e4ff723],
  ])('hashes %j with seed %i to the published value', (text, seed, expected) => {
    expect(stableHash(text, seed)).toBe(expected);
  });

  it.each([
    [bytes(0, 0, 0, 0), 0, 0x2362f9de],
    [bytes(0xff, 0xff, 0xff, 0xff), 0, 0x76293b50],
    [bytes(0x21, 0x43, 0x65, 0x87), 0, 0xf55b516b],
    [bytes(0x21, 0x43, 0x65, 0x87), 0x5082edee, 0x2362f9de],
    [bytes(0x21, 0x43, 0x65), 0, 0x7e4a8634],
    [bytes(0x21, 0x43), 0, 0xa0f7b07a],
    [bytes(0x21), 0, 0x72661cf4],
    [bytes(0, 0, 0), 0, 0x85f0b427],
    [bytes(0, 0), 0, 0x30f4c306],
    [bytes(0), 0, 0x514e28b7],
  ])('hashes the bytes %o with seed %i to the published value', (input, seed, expected) => {
    expect(murmur3x86_32(input, seed)).toBe(expected);
  });

  it('passes SMHasher’s verification test (0xB0F57EE3 for MurmurHash3_x86_32)', () => {
    // SMHasher's VerificationTest: hash the keys {}, {0}, {0,1}, ... {0..254} with seed 256 - length,
    // write the 256 hashes little-endian in a row, and hash that with seed 0.
    const hashes = new Uint8Array(256 * 4);
    const view = new DataView(hashes.buffer);
    for (let length = 0; length < 256; length++) {
      const key = Uint8Array.from({ length }, (_, i) => i);
      view.setUint32(length * 4, murmur3x86_32(key, 256 - length), true);
    }
    expect(murmur3x86_32(hashes, 0)).toBe(0xb0f57ee3);
  });

  it('always answers an unsigned 32-bit integer', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), fc.integer({ min: 0, max: 0xffffffff }), (input, seed) => {
        const hash = murmur3x86_32(input, seed);
        expect(Number.isInteger(hash)).toBe(true);
        expect(hash).toBeGreaterThanOrEqual(0);
        expect(hash).toBeLessThanOrEqual(0xffffffff);
      }),
    );
  });

  it('hashes a string as its UTF-8 bytes', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme' }), fc.nat(), (text, seed) => {
        expect(stableHash(text, seed)).toBe(murmur3x86_32(utf8(text), seed));
      }),
    );
  });
});

describe('bucketOf', () => {
  it('is always an integer in [0, buckets), and the same every time', () => {
    fc.assert(
      fc.property(fc.string(), fc.string(), fc.integer({ min: 1, max: 2 ** 32 }), (key, salt, buckets) => {
        const bucket = bucketOf(key, salt, buckets);
        expect(Number.isInteger(bucket)).toBe(true);
        expect(bucket).toBeGreaterThanOrEqual(0);
        expect(bucket).toBeLessThan(buckets);
        expect(bucketOf(key, salt, buckets)).toBe(bucket);
      }),
    );
  });

  it('is pinned: MurmurHash3(key, seed = MurmurHash3(salt)) mod buckets, so changing it reshuffles every canary and rollout', () => {
    // Computed independently with the reference implementation: mmh3.hash(key, mmh3.hash(salt)) % 10000.
    expect(bucketOf('user-1', 'checkout-v2', 10_000)).toBe(6665);
    expect(bucketOf('user-2', 'checkout-v2', 10_000)).toBe(1016);
    expect(bucketOf('user-1', 'search', 10_000)).toBe(2182);
  });

  it('spreads sequential ids evenly over the buckets', () => {
    const counts = new Array<number>(10).fill(0);
    for (let i = 0; i < 20_000; i++) counts[bucketOf(`user-${i}`, 'spread', 10)]!++;
    // 2,000 expected per bucket; a binomial standard deviation is ~42, so ±200 is almost 5σ.
    for (const count of counts) expect(Math.abs(count - 2_000)).toBeLessThan(200);
  });

  it('gives different salts independent populations', () => {
    let both = 0;
    let first = 0;
    for (let i = 0; i < 20_000; i++) {
      const inA = bucketOf(`user-${i}`, 'flag-a', 100) < 50;
      const inB = bucketOf(`user-${i}`, 'flag-b', 100) < 50;
      if (inA) first++;
      if (inA && inB) both++;
    }
    // Independent halves overlap on a quarter; the same population would overlap on half.
    expect(Math.abs(first / 20_000 - 0.5)).toBeLessThan(0.02);
    expect(Math.abs(both / 20_000 - 0.25)).toBeLessThan(0.02);
  });

  it('refuses a bucket count that is not an integer from 1 to 2^32', () => {
    for (const buckets of [0, -1, 1.5, Number.NaN, 2 ** 32 + 1]) expect(() => bucketOf('k', 's', buckets)).toThrow(/buckets must be an integer from 1 to 2\^32/);
  });
});
