import { describe, expect, it } from 'vitest';
import { hexOf, randomHex } from '../../../shared/observability/random-hex';

describe('random hex ids (trace and span ids)', () => {
  it('are lowercase hex of twice the byte count, distinct, across many refills of the pool', () => {
    // 1,000 trace ids of 16 bytes use the 512-byte pool ~31 times over, refills included.
    const ids = Array.from({ length: 1_000 }, () => randomHex(16));
    for (const id of ids) expect(id).toMatch(/^[0-9a-f]{32}$/);
    expect(new Set(ids).size).toBe(ids.length);
    // Mixed sizes straddle the pool's end, so an id never reads past it.
    for (let i = 0; i < 200; i++) expect(randomHex(i % 2 ? 8 : 16)).toMatch(i % 2 ? /^[0-9a-f]{16}$/ : /^[0-9a-f]{32}$/);
  });

  it('spell each byte as two digits, leading zero kept', () => {
    expect(hexOf(new Uint8Array([0, 1, 0x0f, 0x10, 0xab, 0xff]))).toBe('00010f10abff');
  });

  it('uses every byte value: the table covers 0x00 to 0xff', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 2_000 && seen.size < 256; i++) for (const pair of randomHex(16).match(/../g)!) seen.add(pair);
    expect(seen.size).toBe(256);
  });
});
