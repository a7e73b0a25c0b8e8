import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeCursor, encodeCursor } from '../../../shared/http/cursor';
import { isHttpError, type HttpError } from '../../../shared/http/problem';

/** The HttpError `fn` throws, failing the test if it throws anything else or nothing. */
function thrownBy(fn: () => unknown): HttpError {
  try {
    fn();
  } catch (error) {
    if (isHttpError(error)) return error;
    throw new Error(`expected an HttpError, got ${String(error)}`);
  }
  throw new Error('expected an HttpError, but nothing was thrown');
}

describe('encodeCursor / decodeCursor', () => {
  it('round-trips a cursor', () => {
    const value = { after: 'prod_123', limit: 20 };
    expect(decodeCursor(encodeCursor(value))).toEqual(value);
  });

  it('produces URL-safe text with no padding', () => {
    // '?>' in JSON base64-encodes to characters that are '+' and '/' in plain base64.
    const cursor = encodeCursor({ q: '???>>>~~~', n: 1 });
    expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/);
  });

  it('round-trips non-ASCII text', () => {
    const value = { q: 'café ☕ 日本 😀' };
    expect(decodeCursor(encodeCursor(value))).toEqual(value);
  });

  it('round-trips any object of strings and numbers (property)', () => {
    const key = fc.string().filter((k) => k !== '__proto__');
    const value = fc.dictionary(key, fc.oneof(fc.string(), fc.integer(), fc.double({ noNaN: true, noDefaultInfinity: true })));
    fc.assert(
      fc.property(value, (v) => {
        const cursor = encodeCursor(v);
        expect(cursor).toMatch(/^[A-Za-z0-9_-]*$/);
        // JSON turns -0 into 0; compare what JSON can carry.
        expect(decodeCursor(cursor)).toEqual(JSON.parse(JSON.stringify(v)));
      }),
    );
  });
});

describe('decodeCursor on input it did not issue', () => {
  const garbage: [string, string][] = [
    ['an empty string', ''],
    ['characters outside base64url', 'not a cursor!'],
    ['base64 of text that is not JSON', btoa('hello world')],
    ['base64 of a JSON array', btoa('[1,2]')],
    ['base64 of JSON null', btoa('null')],
    ['base64 of a JSON string', btoa('"after"')],
    ['a length base64 cannot have', 'abcde'],
  ];

  it.each(garbage)('rejects %s with a 400 naming the cursor field', (_, cursor) => {
    const error = thrownBy(() => decodeCursor(cursor));
    expect(error.status).toBe(400);
    expect(error.type).toBe('/problems/validation-failed');
    expect(error.errors?.[0]?.path).toBe('cursor');
  });

  it('rejects a cursor whose characters were tampered with', () => {
    const cursor = encodeCursor({ after: 'prod_1' });
    const tampered = `x${cursor.slice(1)}`;
    expect(thrownBy(() => decodeCursor(tampered)).errors?.[0]).toEqual({ path: 'cursor', message: 'Invalid cursor' });
  });

  it('rejects a truncated cursor', () => {
    const cursor = encodeCursor({ after: 'prod_1', limit: 50 });
    expect(thrownBy(() => decodeCursor(cursor.slice(0, -3))).status).toBe(400);
  });
});
