import type { AttributeValue, Attributes, SpanRecord } from './span';

/**
 * OTLP/HTTP JSON (the protobuf messages of opentelemetry-proto in the proto3 JSON mapping, with
 * trace and span ids as hex, as the OTLP spec's JSON encoding says): ExportTraceServiceRequest
 * from recorded spans, ExportLogsServiceRequest from the logger's JSON lines. Encoded only when a
 * batch is sent (from `waitUntil`), never on the request path.
 */

export interface OtlpAnyValue {
  stringValue?: string;
  intValue?: number;
  doubleValue?: number;
  boolValue?: boolean;
}
export interface OtlpKeyValue {
  key: string;
  value: OtlpAnyValue;
}
export interface OtlpResource {
  attributes: OtlpKeyValue[];
}
export interface OtlpScope {
  name: string;
  version?: string;
}
export interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  startTimeUnixNano: string;
  endTimeUnixNano: string;
  attributes: OtlpKeyValue[];
  status: { code: number };
  links: { traceId: string; spanId: string }[];
  flags: number;
}
export interface OtlpTracesRequest {
  resourceSpans: { resource: OtlpResource; scopeSpans: { scope: OtlpScope; spans: OtlpSpan[] }[] }[];
}
export interface OtlpLogRecord {
  timeUnixNano: string;
  observedTimeUnixNano: string;
  severityNumber: number;
  severityText: string;
  body: OtlpAnyValue;
  attributes: OtlpKeyValue[];
  traceId?: string;
  spanId?: string;
}
export interface OtlpLogsRequest {
  resourceLogs: { resource: OtlpResource; scopeLogs: { scope: OtlpScope; logRecords: OtlpLogRecord[] }[] }[];
}

/** The instrumentation scope of everything stratus records. */
export const SCOPE: OtlpScope = { name: 'stratus' };

/** Epoch milliseconds as OTLP's decimal string of nanoseconds (beyond 2^53, so never a float product). */
export function msToUnixNano(ms: number): string {
  const whole = Math.floor(ms);
  const nanos = Math.round((ms - whole) * 1e6);
  return nanos === 0 ? `${whole}000000` : `${whole}${String(nanos).padStart(6, '0')}`;
}

/** One attribute value, typed as the official encoder types it (integers as intValue). */
export function anyValue(value: AttributeValue): OtlpAnyValue {
  if (typeof value === 'string') return { stringValue: value };
  if (typeof value === 'boolean') return { boolValue: value };
  return Number.isInteger(value) ? { intValue: value } : { doubleValue: value };
}

export function keyValues(attributes: Attributes | undefined): OtlpKeyValue[] {
  const out: OtlpKeyValue[] = [];
  if (attributes) for (const key in attributes) {
    const value = attributes[key];
    if (value !== undefined) out.push({ key, value: anyValue(value) });
  }
  return out;
}

export const resourceOf = (service: string): OtlpResource => ({ attributes: [{ key: 'service.name', value: { stringValue: service } }] });

/**
 * OTLP span flags: the W3C trace flags in the low byte. Bits 8 and 9 (whether the parent was
 * remote) are left 0, which OTLP reads as "unknown".
 */
const flagsOf = (record: SpanRecord) => parseInt(record.flags, 16) & 0xff;

export function otlpSpan(record: SpanRecord): OtlpSpan {
  const span: OtlpSpan = {
    traceId: record.traceId,
    spanId: record.spanId,
    name: record.name,
    kind: record.kind,
    startTimeUnixNano: msToUnixNano(record.startMs),
    endTimeUnixNano: msToUnixNano(record.endMs),
    attributes: keyValues(record.attributes),
    status: { code: record.status },
    links: (record.links ?? []).map((link) => ({ traceId: link.traceId, spanId: link.spanId })),
    flags: flagsOf(record),
  };
  if (record.parentSpanId) span.parentSpanId = record.parentSpanId;
  return span;
}

export function tracesRequest(service: string, spans: readonly SpanRecord[]): OtlpTracesRequest {
  return { resourceSpans: [{ resource: resourceOf(service), scopeSpans: [{ scope: SCOPE, spans: spans.map(otlpSpan) }] }] };
}

/** OTLP severity numbers of the logger's levels (SeverityNumber: DEBUG 5, INFO 9, WARN 13, ERROR 17). */
const SEVERITY: Record<string, number> = { debug: 5, info: 9, warn: 13, error: 17 };
/** Fields of a line that have their own place in a log record. */
const OWN_PLACE = new Set(['ts', 'level', 'msg', 'service', 'traceId', 'spanId']);
const HEX_ID = /^[0-9a-f]+$/;

function attributeOf(value: unknown): AttributeValue | undefined {
  if (value === null || value === undefined) return undefined;
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return value;
  return JSON.stringify(value);
}

/**
 * One logger line (logger.ts: `{ts, level, service, msg, ...fields}`) as a log record: the
 * message is the body, traceId and spanId go where OTLP puts them, every other field is an
 * attribute (objects as their JSON). A line that is not such JSON is kept whole as the body.
 */
export function otlpLogRecord(line: string, observedMs: number): OtlpLogRecord {
  let fields: Record<string, unknown>;
  try {
    const parsed: unknown = JSON.parse(line);
    if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error('not an object');
    fields = parsed as Record<string, unknown>;
  } catch {
    const observed = msToUnixNano(observedMs);
    return { timeUnixNano: observed, observedTimeUnixNano: observed, severityNumber: 9, severityText: 'INFO', body: { stringValue: line }, attributes: [] };
  }
  const level = typeof fields.level === 'string' ? fields.level : 'info';
  const ts = typeof fields.ts === 'string' ? Date.parse(fields.ts) : NaN;
  const attributes: Attributes = {};
  for (const key in fields) if (!OWN_PLACE.has(key)) attributes[key] = attributeOf(fields[key]);
  const record: OtlpLogRecord = {
    timeUnixNano: msToUnixNano(Number.isFinite(ts) ? ts : observedMs),
    observedTimeUnixNano: msToUnixNano(observedMs),
    severityNumber: SEVERITY[level] ?? 9,
    severityText: level.toUpperCase(),
    body: { stringValue: typeof fields.msg === 'string' ? fields.msg : String(fields.msg ?? '') },
    attributes: keyValues(attributes),
  };
  if (typeof fields.traceId === 'string' && fields.traceId.length === 32 && HEX_ID.test(fields.traceId)) record.traceId = fields.traceId;
  if (typeof fields.spanId === 'string' && fields.spanId.length === 16 && HEX_ID.test(fields.spanId)) record.spanId = fields.spanId;
  return record;
}

export function logsRequest(service: string, lines: readonly string[], observedMs: number): OtlpLogsRequest {
  return {
    resourceLogs: [{ resource: resourceOf(service), scopeLogs: [{ scope: SCOPE, logRecords: lines.map((line) => otlpLogRecord(line, observedMs)) }] }],
  };
}
