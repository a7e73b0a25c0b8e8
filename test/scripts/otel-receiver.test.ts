import { afterEach, describe, expect, it } from 'vitest';
import { startOtelReceiver, type OtelReceiver } from '../../scripts/otel-receiver.mjs';
import { logsRequest, tracesRequest } from '../../shared/observability/otlp-json';
import { SpanKind, SpanStatus, type SpanRecord } from '../../shared/observability/span';

let receiver: OtelReceiver | undefined;
afterEach(async () => {
  await receiver?.close();
  receiver = undefined;
});

const traceId = (n: number) => n.toString(16).padStart(32, 'a');
const span = (n: number, overrides: Partial<SpanRecord> = {}): SpanRecord => ({
  traceId: traceId(n),
  spanId: n.toString(16).padStart(16, 'b'),
  parentSpanId: null,
  flags: '01',
  name: 'POST /api/orders',
  kind: SpanKind.SERVER,
  startMs: 1000,
  endMs: 1000 + n,
  status: SpanStatus.UNSET,
  attributes: { 'http.route': '/api/orders', 'http.response.status_code': n % 2 ? 202 : 503 },
  links: undefined,
  ...overrides,
});

const post = (path: string, body: unknown, type = 'application/json') => fetch(`${receiver!.url}${path}`, { method: 'POST', headers: { 'content-type': type }, body: JSON.stringify(body) });
const get = async (path: string) => (await fetch(`${receiver!.url}${path}`)).json() as Promise<{ items: Record<string, unknown>[] }>;

describe('the local OTLP receiver', () => {
  it('takes OTLP JSON spans and lists traces slowest first, by route and status class', async () => {
    receiver = await startOtelReceiver();
    expect((await post('/v1/traces', tracesRequest('gateway', [1, 2, 3, 4].map((n) => span(n))))).status).toBe(200);
    expect((await get('/api/traces')).items.map((t) => t.durationMs)).toEqual([4, 3, 2, 1]);
    expect((await get('/api/traces?status=5xx')).items.map((t) => t.traceId)).toEqual([traceId(4), traceId(2)]);
    expect((await get('/api/traces?route=/api/payments')).items).toEqual([]);
    const one = (await (await fetch(`${receiver.url}/api/traces/${traceId(3)}`)).json()) as { resourceSpans: { scopeSpans: { spans: { spanId: string }[] }[] }[] };
    expect(one.resourceSpans[0]!.scopeSpans[0]!.spans[0]!.spanId).toBe(span(3).spanId);
    expect((await fetch(`${receiver.url}/api/traces/${traceId(9)}`)).status).toBe(404);
  });

  it('keeps the last maxTraces traces and maxLogLines lines', async () => {
    receiver = await startOtelReceiver({ maxTraces: 2, maxLogLines: 3 });
    await post('/v1/traces', tracesRequest('gateway', [1, 2, 3].map((n) => span(n))));
    expect((await get('/api/traces')).items.map((t) => t.traceId).sort()).toEqual([traceId(2), traceId(3)]);
    const lines = [1, 2, 3, 4].map((n) => JSON.stringify({ ts: new Date(n).toISOString(), level: 'info', service: 'orders', msg: `line ${n}`, requestId: `r${n}` }));
    await post('/v1/logs', logsRequest('orders', lines, 10));
    expect((await get('/api/logs')).items.map((l) => l.msg)).toEqual(['line 2', 'line 3', 'line 4']);
    expect(receiver.stats()).toMatchObject({ droppedTraces: 1, droppedLogLines: 1, traces: 2, logLinesKept: 3 });
  });

  it('searches log lines by request id, service, lowest level and text', async () => {
    receiver = await startOtelReceiver();
    const line = (level: string, msg: string, requestId: string) => JSON.stringify({ ts: new Date(0).toISOString(), level, service: 'catalog', msg, requestId, traceId: traceId(1), spanId: 'c'.repeat(16) });
    await post('/v1/logs', logsRequest('catalog', [line('info', 'request', 'r1'), line('warn', 'upstream timed out', 'r1'), line('info', 'request', 'r2')], 10));
    expect((await get('/api/logs?requestId=r1')).items).toHaveLength(2);
    expect((await get('/api/logs?level=warn')).items.map((l) => l.msg)).toEqual(['upstream timed out']);
    expect((await get('/api/logs?q=TIMED&service=catalog')).items[0]).toMatchObject({ requestId: 'r1', traceId: traceId(1), spanId: 'c'.repeat(16), level: 'warn' });
    expect((await fetch(`${receiver.url}/api/logs?limit=0`)).status).toBe(400);
  });

  it('refuses protobuf with 415 and a body that is not JSON with 400', async () => {
    receiver = await startOtelReceiver();
    expect((await fetch(`${receiver.url}/v1/traces`, { method: 'POST', headers: { 'content-type': 'application/x-protobuf' }, body: new Uint8Array([1]) })).status).toBe(415);
    expect((await fetch(`${receiver.url}/v1/logs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{' })).status).toBe(400);
  });
});
