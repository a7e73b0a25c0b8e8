/**
 * MurmurHash3, x86 32-bit variant (`MurmurHash3_x86_32`), as specified by its author Austin
 * Appleby in SMHasher (github.com/aappleby/smhasher, src/MurmurHash3.cpp): 4-byte little-endian
 * blocks mixed with c1 = 0xcc9e2d51, c2 = 0x1b873593, the tail, the length, then the `fmix32`
 * avalanche. Chosen for bucketing because it is fast, passes SMHasher's distribution tests, is
 * seedable (the salt becomes the seed) and widely implemented, so its vectors can be checked
 * anywhere (Guava's `Hashing.murmur3_32_fixed` and Python's `mmh3.hash` compute the same function).
 * It is not a cryptographic hash: whoever chooses a key (a cookie value, say) can choose its bucket.
 *
 * Only `Math.imul`, 32-bit integer operators and TextEncoder's UTF-8 are used, so a key hashes
 * the same on workerd, Node, Bun and Deno, and in every isolate: a sticky choice stays sticky.
 */

const C1 = 0xcc9e2d51;
const C2 = 0x1b873593;

const rotl32 = (x: number, r: number): number => (x << r) | (x >>> (32 - r));

/** MurmurHash3_x86_32 of raw bytes; an unsigned 32-bit integer. */
export function murmur3x86_32(bytes: Uint8Array, seed = 0): number {
  const length = bytes.length;
  const blockEnd = length - (length % 4);
  let h = seed | 0;
  for (let i = 0; i < blockEnd; i += 4) {
    let k = bytes[i]! | (bytes[i + 1]! << 8) | (bytes[i + 2]! << 16) | (bytes[i + 3]! << 24);
    k = Math.imul(rotl32(Math.imul(k, C1), 15), C2);
    h = rotl32(h ^ k, 13);
    h = (Math.imul(h, 5) + 0xe6546b64) | 0;
  }
  const tail = length - blockEnd;
  if (tail > 0) {
    let k = bytes[blockEnd]!;
    if (tail > 1) k |= bytes[blockEnd + 1]! << 8;
    if (tail > 2) k |= bytes[blockEnd + 2]! << 16;
    h ^= Math.imul(rotl32(Math.imul(k, C1), 15), C2);
  }
  h ^= length;
  // fmix32: every input bit affects every output bit, so low bits (what `%` keeps) are as good as high.
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

const utf8 = new TextEncoder();

/**
 * MurmurHash3_x86_32 of a string's UTF-8 bytes. TextEncoder turns a lone surrogate into U+FFFD,
 * so `'\uD800'` and `'\uFFFD'` hash alike; ids and cookie values are well-formed, so that is moot.
 */
export const stableHash = (text: string, seed = 0): number => murmur3x86_32(utf8.encode(text), seed);

const MAX_BUCKETS = 2 ** 32;

/**
 * The bucket in [0, buckets) that `key` falls in for `salt`. The salt's own hash is the seed, so
 * different salts (one per flag, one per route) give independent populations: being in the first
 * 10% for one flag says nothing about another. A seed, not `salt + key`, so no two (salt, key)
 * pairs can concatenate to the same text. `%` on a 32-bit hash is biased by at most
 * buckets / 2^32 (2.3e-6 for 10,000 buckets), far below any rollout step.
 */
export function bucketOf(key: string, salt: string, buckets: number): number {
  if (!Number.isInteger(buckets) || buckets < 1 || buckets > MAX_BUCKETS) {
    throw new RangeError(`buckets must be an integer from 1 to 2^32, got ${buckets}`);
  }
  return stableHash(key, stableHash(salt)) % buckets;
}
