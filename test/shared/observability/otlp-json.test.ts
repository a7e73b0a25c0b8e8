import { JsonLogsSerializer, JsonTraceSerializer } from '@opentelemetry/otlp-transformer';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createLogger } from '../../../shared/observability/logger';
import { logsRequest, msToUnixNano, tracesRequest } from '../../../shared/observability/otlp-json';
import { SpanKind, SpanStatus, type SpanRecord } from '../../../shared/observability/span';

/**
 * The exporter's payload against the official OpenTelemetry JS transformer
 * (@opentelemetry/otlp-transformer, what every OTel JS SDK exporter sends with): the same span and
 * the same log record, encoded by both, must carry the same fields with the same values and
 * types; and both must pass a schema of the OTLP/HTTP JSON encoding (opentelemetry-proto's
 * messages in the proto3 JSON mapping, ids as hex), so a collector that takes the SDK's takes ours.
 */

type SdkSpans = Parameters<typeof JsonTraceSerializer.serializeRequest>[0];
type SdkLogs = Parameters<typeof JsonLogsSerializer.serializeRequest>[0];

const hex = (length: number) => z.string().regex(new RegExp(`^[0-9a-f]{${length}}$`));
const unixNano = z.string().regex(/^\d{1,20}$/);
const anyValue = z.union([
  z.strictObject({ stringValue: z.string() }),
  z.strictObject({ boolValue: z.boolean() }),
  z.strictObject({ intValue: z.union([z.number().int(), z.string().regex(/^-?\d+$/)]) }),
  z.strictObject({ doubleValue: z.number() }),
]);
const keyValue = z.object({ key: z.string().min(1), value: anyValue });
const resource = z.object({ attributes: z.array(keyValue).refine((a) => a.some((kv) => kv.key === 'service.name'), 'service.name') });
const scope = z.object({ name: z.string().min(1), version: z.string().optional() });
const spanSchema = z.object({
  traceId: hex(32),
  spanId: hex(16),
  parentSpanId: hex(16).optional(),
  name: z.string().min(1),
  kind: z.number().int().min(0).max(5),
  startTimeUnixNano: unixNano,
  endTimeUnixNano: unixNano,
  attributes: z.array(keyValue),
  status: z.object({ code: z.number().int().min(0).max(2), message: z.string().optional() }),
  links: z.array(z.object({ traceId: hex(32), spanId: hex(16) })),
  flags: z.number().int().min(0).max(0x3ff).optional(),
});
const tracesSchema = z.object({ resourceSpans: z.array(z.object({ resource, scopeSpans: z.array(z.object({ scope, spans: z.array(spanSchema) })) })).min(1) });
const logRecordSchema = z.object({
  timeUnixNano: unixNano,
  observedTimeUnixNano: unixNano,
  severityNumber: z.number().int().min(1).max(24),
  severityText: z.string(),
  body: anyValue,
  attributes: z.array(keyValue),
  traceId: hex(32).optional(),
  spanId: hex(16).optional(),
});
const logsSchema = z.object({ resourceLogs: z.array(z.object({ resource, scopeLogs: z.array(z.object({ scope, logRecords: z.array(logRecordSchema) })) })).min(1) });

const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const PARENT = '00f067aa0ba902b7';
const SPAN = 'b7ad6b7169203331';
const START_MS = 1_765_000_000_123;
const END_MS = 1_765_000_000_160;

const ours: SpanRecord = {
  traceId: TRACE_ID,
  spanId: SPAN,
  parentSpanId: PARENT,
  flags: '01',
  name: 'POST catalog',
  kind: SpanKind.CLIENT,
  startMs: START_MS,
  endMs: END_MS,
  status: SpanStatus.ERROR,
  attributes: { 'http.request.method': 'POST', 'http.response.status_code': 503, 'retry.attempt': 2, 'cache.ratio': 0.5, 'retry.last': false },
  links: [{ traceId: TRACE_ID, spanId: PARENT, flags: '01' }],
};

const hrTime = (ms: number): [number, number] => [Math.floor(ms / 1000), (ms % 1000) * 1e6];

/** The same span as the SDK's ReadableSpan (only what the serializer reads). */
const sdkSpan = {
  name: ours.name,
  kind: 2, // @opentelemetry/api SpanKind.CLIENT; OTLP numbers it 3
  spanContext: () => ({ traceId: TRACE_ID, spanId: SPAN, traceFlags: 1 }),
  parentSpanContext: { traceId: TRACE_ID, spanId: PARENT, traceFlags: 1 },
  startTime: hrTime(START_MS),
  endTime: hrTime(END_MS),
  duration: hrTime(END_MS - START_MS),
  ended: true,
  status: { code: 2 },
  attributes: ours.attributes,
  links: [{ context: { traceId: TRACE_ID, spanId: PARENT, traceFlags: 1 } }],
  events: [],
  resource: { attributes: { 'service.name': 'gateway' } },
  instrumentationScope: { name: 'stratus' },
  droppedAttributesCount: 0,
  droppedEventsCount: 0,
  droppedLinksCount: 0,
} as unknown as SdkSpans[number];

const decode = (bytes: Uint8Array | undefined) => JSON.parse(new TextDecoder().decode(bytes)) as Record<string, unknown>;

describe('OTLP/HTTP JSON traces', () => {
  it('encodes a span as the official transformer does, field for field', () => {
    const official = tracesSchema.parse(decode(JsonTraceSerializer.serializeRequest([sdkSpan])));
    const mine = tracesSchema.parse(JSON.parse(JSON.stringify(tracesRequest('gateway', [ours]))));
    expect(mine.resourceSpans[0]!.resource.attributes).toEqual(official.resourceSpans[0]!.resource.attributes);
    const a = mine.resourceSpans[0]!.scopeSpans[0]!.spans[0]!;
    const b = official.resourceSpans[0]!.scopeSpans[0]!.spans[0]!;
    for (const field of ['traceId', 'spanId', 'parentSpanId', 'name', 'kind', 'startTimeUnixNano', 'endTimeUnixNano', 'attributes'] as const) {
      expect(a[field], field).toEqual(b[field]);
    }
    expect(a.status.code).toBe(b.status.code);
    expect(a.links).toEqual(b.links.map(({ traceId, spanId }) => ({ traceId, spanId })));
    // The W3C flags byte agrees; the official one also says whether the parent was remote (bits 8-9).
    expect(a.flags! & 0xff).toBe(b.flags! & 0xff);
  });

  it('leaves parentSpanId out of a root span, and writes nanoseconds past 2^53 exactly', () => {
    const root = tracesRequest('gateway', [{ ...ours, parentSpanId: null, links: undefined, attributes: undefined }]).resourceSpans[0]!.scopeSpans[0]!.spans[0]!;
    expect(tracesSchema.safeParse({ resourceSpans: [{ resource: { attributes: [{ key: 'service.name', value: { stringValue: 'g' } }] }, scopeSpans: [{ scope: { name: 's' }, spans: [root] }] }] }).success).toBe(true);
    expect('parentSpanId' in root).toBe(false);
    expect(msToUnixNano(START_MS)).toBe('1765000000123000000');
    expect(msToUnixNano(1.5)).toBe('1500000');
  });
});

describe('OTLP/HTTP JSON logs', () => {
  it('encodes a logger line as the official transformer encodes the same record', () => {
    const lines: string[] = [];
    const log = createLogger({ service: 'orders' }, { write: (line) => lines.push(line), now: () => START_MS }).child({ requestId: 'req-1', traceId: TRACE_ID, spanId: SPAN });
    log.warn('saga step failed', { step: 'charge', attempts: 2, detail: { code: 'x' } });
    const mine = logsSchema.parse(JSON.parse(JSON.stringify(logsRequest('orders', lines, END_MS))));

    const sdkLog = {
      hrTime: hrTime(START_MS),
      hrTimeObserved: hrTime(END_MS),
      severityNumber: 13,
      severityText: 'WARN',
      body: 'saga step failed',
      attributes: { requestId: 'req-1', step: 'charge', attempts: 2, detail: '{"code":"x"}' },
      droppedAttributesCount: 0,
      spanContext: { traceId: TRACE_ID, spanId: SPAN, traceFlags: 1 },
      resource: { attributes: { 'service.name': 'orders' } },
      instrumentationScope: { name: 'stratus' },
    };
    const official = logsSchema.parse(decode(JsonLogsSerializer.serializeRequest([sdkLog as unknown as SdkLogs[number]])));
    const a = mine.resourceLogs[0]!.scopeLogs[0]!.logRecords[0]!;
    const b = official.resourceLogs[0]!.scopeLogs[0]!.logRecords[0]!;
    for (const field of ['timeUnixNano', 'observedTimeUnixNano', 'severityNumber', 'severityText', 'body', 'traceId', 'spanId'] as const) expect(a[field], field).toEqual(b[field]);
    expect(new Map(a.attributes.map((kv) => [kv.key, kv.value]))).toEqual(new Map(b.attributes.map((kv) => [kv.key, kv.value])));
  });

  it('keeps a line that is not the logger JSON whole, as its body', () => {
    const record = logsRequest('orders', ['plain text'], START_MS).resourceLogs[0]!.scopeLogs[0]!.logRecords[0]!;
    expect(logsSchema.safeParse(logsRequest('orders', ['plain text'], START_MS)).success).toBe(true);
    expect(record.body).toEqual({ stringValue: 'plain text' });
  });
});
