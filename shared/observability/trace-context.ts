import { hexOf, randomHex } from './random-hex';

/**
 * W3C Trace Context (traceparent / tracestate), Level 1 parsing rules.
 *
 * Each hop continues the caller's trace: it keeps the trace id and flags, remembers the caller's
 * span as its parent, and makes a span id of its own. Downstream calls carry that own span id as
 * their parent, so the chain client → gateway → service reads as one trace.
 */

export interface TraceContext {
  traceId: string;
  /** The caller's span id, or null when this hop started the trace. */
  parentSpanId: string | null;
  /** This hop's own span id. */
  spanId: string;
  flags: string;
  /** Vendor state, passed on unchanged (the spec forbids mutating others' entries). */
  tracestate: string | null;
}

export interface ParsedTraceparent {
  traceId: string;
  parentSpanId: string;
  flags: string;
}

const HEX = /^[0-9a-f]+$/;
const isHex = (value: string, length: number) => value.length === length && HEX.test(value);
const allZero = (value: string) => /^0+$/.test(value);

/** Parses a `traceparent` header; null for anything the spec says to ignore. */
export function parseTraceparent(header: string | null | undefined): ParsedTraceparent | null {
  if (!header) return null;
  const value = header.trim();
  const parts = value.split('-');
  if (parts.length < 4) return null;
  const [version, traceId, parentSpanId, flags] = parts as [string, string, string, string];
  if (!isHex(version, 2) || version === 'ff') return null;
  // Version 00 has exactly four fields; a future version may append more, which we must tolerate.
  if (version === '00' && parts.length !== 4) return null;
  if (!isHex(traceId, 32) || allZero(traceId)) return null;
  if (!isHex(parentSpanId, 16) || allZero(parentSpanId)) return null;
  if (!isHex(flags, 2)) return null;
  return { traceId, parentSpanId, flags };
}

export type RandomBytes = (length: number) => Uint8Array;

/**
 * A random non-zero id of `bytes` bytes, as lowercase hex: from the shared random pool
 * (random-hex.ts), or from `random` when a caller (a test) scripts its bytes.
 */
function randomId(bytes: number, random: RandomBytes | undefined): string {
  if (!random) return randomHex(bytes);
  for (;;) {
    const id = hexOf(random(bytes));
    if (!allZero(id)) return id;
  }
}

export const newTraceId = (random?: RandomBytes) => randomId(16, random);
export const newSpanId = (random?: RandomBytes) => randomId(8, random);

/** Continues the incoming trace, or starts one (sampled) when there is none or it is invalid. */
export function continueTrace(
  traceparent: string | null | undefined,
  tracestate: string | null | undefined,
  random?: RandomBytes,
): TraceContext {
  const parsed = parseTraceparent(traceparent);
  if (!parsed) {
    // A broken traceparent also invalidates tracestate (spec §3.3.1).
    return { traceId: newTraceId(random), parentSpanId: null, spanId: newSpanId(random), flags: '01', tracestate: null };
  }
  return {
    traceId: parsed.traceId,
    parentSpanId: parsed.parentSpanId,
    spanId: newSpanId(random),
    // Only the sampled bit is defined in version 00; keep the caller's decision.
    flags: parsed.flags,
    tracestate: tracestate?.trim() || null,
  };
}

export const formatTraceparent = (traceId: string, spanId: string, flags: string) => `00-${traceId}-${spanId}-${flags}`;

/** The `traceparent` for a call made from this hop: same trace, this hop's span as the parent. */
export const outgoingTraceparent = (trace: TraceContext) => formatTraceparent(trace.traceId, trace.spanId, trace.flags);
