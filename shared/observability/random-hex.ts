/**
 * Random non-zero ids as lowercase hex, for trace and span ids on every request: bytes come from
 * one buffer refilled by a single `getRandomValues` every 512 bytes, and hex comes from a table, so
 * an id costs no typed array, no `Array.from` and no `join` (the naive way was ~8 % of the
 * gateway's CPU per request in `npm run bench:profile`).
 */
const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));
const POOL = new Uint8Array(512);
let poolAt = POOL.length;

/** `bytes` random bytes as hex, never all zeros (W3C Trace Context forbids an all-zero id). */
export function randomHex(bytes: number): string {
  for (;;) {
    if (poolAt + bytes > POOL.length) {
      crypto.getRandomValues(POOL);
      poolAt = 0;
    }
    let id = '';
    let zero = true;
    for (let i = 0; i < bytes; i++) {
      const byte = POOL[poolAt++]!;
      if (byte !== 0) zero = false;
      id += HEX[byte];
    }
    if (!zero) return id;
  }
}

/** `bytes` as hex through the same table (ids from a caller's own random source: tests). */
export function hexOf(bytes: Uint8Array): string {
  let hex = '';
  for (const byte of bytes) hex += HEX[byte];
  return hex;
}
