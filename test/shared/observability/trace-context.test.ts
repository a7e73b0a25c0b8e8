import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  continueTrace,
  formatTraceparent,
  newSpanId,
  newTraceId,
  outgoingTraceparent,
  parseTraceparent,
  type RandomBytes,
} from '../../../shared/observability/trace-context';

const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const SPAN = '00f067aa0ba902b7';
const VALID = `00-${TRACE}-${SPAN}-01`;

/** A generator that yields the given byte fills in turn (then keeps repeating the last one). */
function scriptedRandom(...fills: number[]): RandomBytes & { calls: number[] } {
  const calls: number[] = [];
  const random = (length: number) => {
    const fill = fills[Math.min(calls.length, fills.length - 1)] ?? 0;
    calls.push(length);
    return new Uint8Array(length).fill(fill);
  };
  return Object.assign(random, { calls });
}

const hex = (length: number) =>
  fc.string({ unit: fc.constantFrom(...'0123456789abcdef'), minLength: length, maxLength: length });
const nonZeroHex = (length: number) => hex(length).filter((value) => /[^0]/.test(value));

describe('parseTraceparent', () => {
  it('parses a valid version 00 header', () => {
    expect(parseTraceparent(VALID)).toEqual({ traceId: TRACE, parentSpanId: SPAN, flags: '01' });
  });

  it('tolerates surrounding whitespace', () => {
    expect(parseTraceparent(`  ${VALID}\t`)).toEqual({ traceId: TRACE, parentSpanId: SPAN, flags: '01' });
  });

  it('keeps unsampled flags as they are', () => {
    expect(parseTraceparent(`00-${TRACE}-${SPAN}-00`)?.flags).toBe('00');
  });

  it.each([
    ['missing', undefined],
    ['null', null],
    ['empty', ''],
    ['too few fields', `00-${TRACE}-${SPAN}`],
    ['version ff', `ff-${TRACE}-${SPAN}-01`],
    ['a non-hex version', `0x-${TRACE}-${SPAN}-01`],
    ['a one-character version', `0-${TRACE}-${SPAN}-01`],
    ['an all-zero trace id', `00-${'0'.repeat(32)}-${SPAN}-01`],
    ['an all-zero span id', `00-${TRACE}-${'0'.repeat(16)}-01`],
    ['an uppercase trace id', `00-${TRACE.toUpperCase()}-${SPAN}-01`],
    ['an uppercase span id', `00-${TRACE}-00F067AA0BA902B7-01`],
    ['uppercase flags', `00-${TRACE}-${SPAN}-0A`],
    ['a short trace id', `00-${TRACE.slice(1)}-${SPAN}-01`],
    ['a long span id', `00-${TRACE}-${SPAN}0-01`],
    ['one-character flags', `00-${TRACE}-${SPAN}-1`],
    ['non-hex flags', `00-${TRACE}-${SPAN}-zz`],
    ['version 00 with an extra field', `${VALID}-extra`],
    ['version 00 with a trailing dash', `${VALID}-`],
  ])('ignores a header that is %s', (_, header) => {
    expect(parseTraceparent(header)).toBeNull();
  });

  it('accepts a future version with an extra field, reading the fields it knows', () => {
    expect(parseTraceparent(`cc-${TRACE}-${SPAN}-01-what-the-future-holds`)).toEqual({
      traceId: TRACE,
      parentSpanId: SPAN,
      flags: '01',
    });
  });

  it('still validates the known fields of a future version', () => {
    expect(parseTraceparent(`cc-${'0'.repeat(32)}-${SPAN}-01-extra`)).toBeNull();
  });

  it('round-trips any valid trace id, span id and flags through formatTraceparent (property)', () => {
    fc.assert(
      fc.property(nonZeroHex(32), nonZeroHex(16), hex(2), (traceId, spanId, flags) => {
        const header = formatTraceparent(traceId, spanId, flags);
        expect(header).toHaveLength(55);
        expect(parseTraceparent(header)).toEqual({ traceId, parentSpanId: spanId, flags });
      }),
    );
  });
});

describe('newTraceId / newSpanId', () => {
  it('are lowercase hex of 16 and 8 bytes', () => {
    expect(newTraceId()).toMatch(/^[0-9a-f]{32}$/);
    expect(newSpanId()).toMatch(/^[0-9a-f]{16}$/);
  });

  it('draw again when the generator first yields all zeros', () => {
    const random = scriptedRandom(0, 0, 0xab);
    expect(newTraceId(random)).toBe('ab'.repeat(16));
    expect(random.calls).toEqual([16, 16, 16]);
  });

  it('never return an all-zero span id', () => {
    expect(newSpanId(scriptedRandom(0, 0x01))).toBe('01'.repeat(8));
  });
});

describe('continueTrace', () => {
  it('keeps the caller trace id and flags, remembers its span as the parent, and makes a new span id', () => {
    const trace = continueTrace(`00-${TRACE}-${SPAN}-00`, 'vendor=abc', scriptedRandom(0x11));
    expect(trace).toEqual({ traceId: TRACE, parentSpanId: SPAN, spanId: '11'.repeat(8), flags: '00', tracestate: 'vendor=abc' });
  });

  it('makes a span id different from the parent even with the real generator', () => {
    const trace = continueTrace(VALID, null);
    expect(trace.spanId).toMatch(/^[0-9a-f]{16}$/);
    expect(trace.spanId).not.toBe(SPAN);
  });

  it('starts a sampled trace with no parent when there is no traceparent', () => {
    const trace = continueTrace(undefined, undefined, scriptedRandom(0x22, 0x33));
    expect(trace).toEqual({ traceId: '22'.repeat(16), parentSpanId: null, spanId: '33'.repeat(8), flags: '01', tracestate: null });
  });

  it('drops tracestate when traceparent is invalid', () => {
    const trace = continueTrace(`ff-${TRACE}-${SPAN}-01`, 'vendor=abc');
    expect(trace.tracestate).toBeNull();
    expect(trace.traceId).not.toBe(TRACE);
    expect(trace.parentSpanId).toBeNull();
  });

  it('trims tracestate and treats a blank one as absent', () => {
    expect(continueTrace(VALID, '  a=1,b=2  ').tracestate).toBe('a=1,b=2');
    expect(continueTrace(VALID, '   ').tracestate).toBeNull();
    expect(continueTrace(VALID, null).tracestate).toBeNull();
  });

  it('generates non-zero ids even when the generator first yields zeros', () => {
    const trace = continueTrace(null, null, scriptedRandom(0, 0, 0x0f, 0, 0x10));
    expect(trace.traceId).toBe('0f'.repeat(16));
    expect(trace.spanId).toBe('10'.repeat(8));
  });
});

describe('outgoingTraceparent', () => {
  it('names this hop span as the parent of the next one', () => {
    const trace = continueTrace(VALID, null, scriptedRandom(0x44));
    const outgoing = outgoingTraceparent(trace);
    expect(outgoing).toBe(`00-${TRACE}-${'44'.repeat(8)}-01`);
    expect(continueTrace(outgoing, null).parentSpanId).toBe(trace.spanId);
  });
});
