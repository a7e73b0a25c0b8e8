import { describe, expect, it } from 'vitest';
import { ageSeconds, betterThan, decodeAnswer, encodeAnswer, freshness, lifetimeSeconds, tagsCurrent, type CachedAnswer } from '../../../shared/cache/cached-answer';

const bytes = (text: string) => new TextEncoder().encode(text).buffer as ArrayBuffer;

const answer = (over: Partial<CachedAnswer> = {}): CachedAnswer => ({
  status: 200,
  headers: [['content-type', 'application/json']],
  body: bytes('{"ok":true}'),
  storedAt: 1_000_000,
  ttlSeconds: 30,
  staleWhileRevalidateSeconds: 60,
  tags: { 'product:p1': 5 },
  ...over,
});

describe('freshness', () => {
  it('fresh before the TTL, stale until TTL + swr, then expired (boundaries included in the later state)', () => {
    const a = answer();
    expect(freshness(a, a.storedAt)).toBe('fresh');
    expect(freshness(a, a.storedAt + 29_999)).toBe('fresh');
    expect(freshness(a, a.storedAt + 30_000)).toBe('stale');
    expect(freshness(a, a.storedAt + 89_999)).toBe('stale');
    expect(freshness(a, a.storedAt + 90_000)).toBe('expired');
  });

  it('no stale window when swr is 0', () => {
    const a = answer({ staleWhileRevalidateSeconds: 0 });
    expect(freshness(a, a.storedAt + 30_000)).toBe('expired');
  });

  it('Age in whole seconds, never negative (a clock that went back)', () => {
    const a = answer();
    expect(ageSeconds(a, a.storedAt + 31_999)).toBe(31);
    expect(ageSeconds(a, a.storedAt - 5_000)).toBe(0);
  });

  it('a store keeps it TTL + swr, at least a second', () => {
    expect(lifetimeSeconds(answer())).toBe(90);
    expect(lifetimeSeconds(answer({ ttlSeconds: 0, staleWhileRevalidateSeconds: 0 }))).toBe(1);
  });

  it('orders verdicts: fresh over stale over nothing', () => {
    expect(betterThan('fresh', 'stale')).toBe(true);
    expect(betterThan('stale', null)).toBe(true);
    expect(betterThan('stale', 'fresh')).toBe(false);
    expect(betterThan(null, null)).toBe(false);
  });
});

describe('tagsCurrent', () => {
  it('current only when every tag has exactly the version it was stored with', () => {
    const a = answer({ tags: { 'product:p1': 5, 'products:list': 7 } });
    expect(tagsCurrent(a, { 'product:p1': 5, 'products:list': 7 })).toBe(true);
    expect(tagsCurrent(a, { 'product:p1': 6, 'products:list': 7 })).toBe(false);
    // A counter that restarted lower is not "older, so fine": it is different.
    expect(tagsCurrent(a, { 'product:p1': 0, 'products:list': 7 })).toBe(false);
    // The route's tags changed: other or fewer tags than stored.
    expect(tagsCurrent(a, { 'product:p1': 5 })).toBe(false);
    expect(tagsCurrent(a, { 'product:p1': 5, other: 7 })).toBe(false);
  });

  it('an untagged answer is current for an untagged request', () => {
    expect(tagsCurrent(answer({ tags: {} }), {})).toBe(true);
  });
});

describe('JSON form', () => {
  it('round-trips every byte, header and field', () => {
    const binary = new Uint8Array(70_000).map((_, i) => (i * 31) % 256);
    const a = answer({ body: binary.buffer as ArrayBuffer, headers: [['content-type', 'application/octet-stream'], ['x-a', 'b']] });
    const back = decodeAnswer(JSON.parse(JSON.stringify(encodeAnswer(a))));
    expect(back).not.toBeNull();
    expect(new Uint8Array(back!.body)).toEqual(binary);
    expect({ ...back, body: null }).toEqual({ ...a, body: null });
  });

  it('null for anything that is not an encoded answer', () => {
    for (const value of [null, 'text', 42, {}, { v: 2 }, { ...encodeAnswer(answer()), body: '***' }, { ...encodeAnswer(answer()), headers: [['only-a-name']] }]) {
      expect(decodeAnswer(value)).toBeNull();
    }
  });
});
