import { describe, expect, it } from 'vitest';
import { acceptOrCreateRequestId, REQUEST_ID_PATTERN } from '../../../shared/observability/request-id';

const fresh = () => 'fresh-id';

describe('acceptOrCreateRequestId', () => {
  it.each(['abc', 'A-Z_a.z-0.9', 'x', '0f8fad5b-d9cb-469f-a165-70867728950e'])('accepts the caller id %s unchanged', (id) => {
    expect(acceptOrCreateRequestId(id, fresh)).toBe(id);
  });

  it('accepts an id of exactly 128 characters', () => {
    const id = 'a'.repeat(128);
    expect(acceptOrCreateRequestId(id, fresh)).toBe(id);
  });

  it('replaces (never trims) an id of 129 characters', () => {
    expect(acceptOrCreateRequestId('a'.repeat(129), fresh)).toBe('fresh-id');
  });

  it.each([
    ['a space', 'abc def'],
    ['a quote', 'abc"def'],
    ['a newline', 'abc\ndef'],
    ['a trailing newline', 'abc\n'],
    ['a slash', 'a/b'],
    ['non-ASCII', 'café'],
  ])('replaces an id containing %s', (_, id) => {
    expect(acceptOrCreateRequestId(id, fresh)).toBe('fresh-id');
  });

  it('creates an id when there is none', () => {
    expect(acceptOrCreateRequestId(null, fresh)).toBe('fresh-id');
    expect(acceptOrCreateRequestId(undefined, fresh)).toBe('fresh-id');
    expect(acceptOrCreateRequestId('', fresh)).toBe('fresh-id');
  });

  it('creates a UUID by default, which the pattern itself accepts', () => {
    const a = acceptOrCreateRequestId(null);
    const b = acceptOrCreateRequestId(null);
    expect(a).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(a).not.toBe(b);
    expect(REQUEST_ID_PATTERN.test(a)).toBe(true);
  });

  it('only calls the generator when it has to', () => {
    let calls = 0;
    acceptOrCreateRequestId('ok', () => String(++calls));
    expect(calls).toBe(0);
  });
});
