import { describe, expect, it } from 'vitest';
import { OtlpExporter, parseOtlpHeaders } from '../../../shared/observability/otlp-exporter';
import type { OtlpLogsRequest, OtlpTracesRequest } from '../../../shared/observability/otlp-json';
import { DISABLED_TRACER, SpanKind, SpanStatus, Tracer } from '../../../shared/observability/span';
import { DISABLED_TELEMETRY, telemetryFor } from '../../../shared/observability/telemetry';
import { continueTrace } from '../../../shared/observability/trace-context';

interface Sent {
  url: string;
  headers: Record<string, string>;
  body: OtlpTracesRequest & OtlpLogsRequest;
}

/** A collector stand-in: records each request; `hold()` keeps answers back until released. */
function collector(status = 200) {
  const sent: Sent[] = [];
  let gate: Promise<void> | null = null;
  let open = () => {};
  const fetch = (async (input: RequestInfo | URL, init?: RequestInit) => {
    sent.push({ url: String(input), headers: init?.headers as Record<string, string>, body: JSON.parse(String(init?.body)) });
    if (gate) await gate;
    return new Response('{}', { status });
  }) as typeof globalThis.fetch;
  return {
    sent,
    fetch,
    hold() {
      gate = new Promise((resolve) => (open = resolve));
    },
    release() {
      gate = null;
      open();
    },
  };
}

const spanCount = (sent: Sent[]) => sent.filter((s) => s.url.endsWith('/v1/traces')).reduce((n, s) => n + s.body.resourceSpans[0]!.scopeSpans[0]!.spans.length, 0);
const parent = { traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: '00f067aa0ba902b7', flags: '01' };

describe('spans', () => {
  it('a child carries its trace, a fresh span id and its parent; ended once, with its outcome', () => {
    const c = collector();
    const exporter = new OtlpExporter({ service: 'gateway', endpoint: 'http://collector.test', fetch: c.fetch });
    const span = new Tracer(exporter).start('POST catalog', SpanKind.CLIENT, parent, { 'retry.attempt': 1 }, 1000);
    expect(span.traceId).toBe(parent.traceId);
    expect(span.spanId).toMatch(/^[0-9a-f]{16}$/);
    expect(span.spanId).not.toBe(parent.spanId);
    expect(span.traceparent()).toBe(`00-${parent.traceId}-${span.spanId}-01`);
    span.setAttribute('http.response.status_code', 503).end(SpanStatus.ERROR, 1040);
    span.end(SpanStatus.OK, 2000);
    expect(exporter.buffered).toBe(1);
  });

  it('tracing off: a span is its parent (the traceparent sent on is unchanged) and nothing is kept', () => {
    const span = DISABLED_TRACER.start('POST catalog', SpanKind.CLIENT, parent);
    expect(span.recording).toBe(false);
    expect(span.traceparent()).toBe(`00-${parent.traceId}-${parent.spanId}-01`);
    span.setAttribute('x', 1).end();
    expect(span.attributes).toBeUndefined();
    expect(telemetryFor('gateway', {})).toBe(DISABLED_TELEMETRY);
    expect(telemetryFor('gateway', { OTEL_EXPORTER_OTLP_ENDPOINT: '' })).toBe(DISABLED_TELEMETRY);
  });

  it('an adopted request span keeps the ids its log lines already carry', async () => {
    const c = collector();
    const exporter = new OtlpExporter({ service: 'orders', endpoint: 'http://collector.test/', fetch: c.fetch });
    const trace = continueTrace(`00-${parent.traceId}-${parent.spanId}-01`, null);
    new Tracer(exporter).adopt(trace, 'POST /orders', SpanKind.SERVER, 1000).end(SpanStatus.UNSET, 1010);
    await exporter.flush();
    const span = c.sent[0]!.body.resourceSpans[0]!.scopeSpans[0]!.spans[0]!;
    expect(c.sent[0]!.url).toBe('http://collector.test/v1/traces');
    expect(span).toMatchObject({ traceId: parent.traceId, spanId: trace.spanId, parentSpanId: parent.spanId, kind: 2, startTimeUnixNano: '1000000000', endTimeUnixNano: '1010000000' });
  });

  it('a traced failure ends the span as an error and rethrows', async () => {
    const c = collector();
    const exporter = new OtlpExporter({ service: 'orders', endpoint: 'http://collector.test', fetch: c.fetch });
    await expect(new Tracer(exporter).trace('D1 batch', SpanKind.CLIENT, parent, async () => Promise.reject(new Error('locked')))).rejects.toThrow('locked');
    await exporter.flush();
    const span = c.sent[0]!.body.resourceSpans[0]!.scopeSpans[0]!.spans[0]!;
    expect(span.status.code).toBe(2);
    expect(span.attributes).toContainEqual({ key: 'exception.message', value: { stringValue: 'locked' } });
  });
});

describe('the exporter', () => {
  it('sends spans and log lines in one request each, with the configured headers', async () => {
    const c = collector();
    const exporter = new OtlpExporter({ service: 'payments', endpoint: 'http://collector.test', headers: parseOtlpHeaders('x-honeycomb-team=k%3D1, bad'), fetch: c.fetch });
    const tracer = new Tracer(exporter);
    for (let i = 0; i < 3; i++) tracer.start(`span ${i}`, SpanKind.INTERNAL, parent).end();
    exporter.log(JSON.stringify({ ts: new Date(0).toISOString(), level: 'info', service: 'payments', msg: 'request' }));
    await exporter.flush();
    expect(c.sent.map((s) => s.url).sort()).toEqual(['http://collector.test/v1/logs', 'http://collector.test/v1/traces']);
    expect(spanCount(c.sent)).toBe(3);
    expect(c.sent[0]!.headers).toMatchObject({ 'content-type': 'application/json', 'x-honeycomb-team': 'k=1' });
    expect(exporter.buffered).toBe(0);
    expect(exporter.flush()).toBeUndefined();
  });

  it('spans of requests that end while a send is on its way leave with the next batch of that same flush', async () => {
    const c = collector();
    const exporter = new OtlpExporter({ service: 'gateway', endpoint: 'http://collector.test', fetch: c.fetch });
    const tracer = new Tracer(exporter);
    c.hold();
    tracer.start('first', SpanKind.SERVER, parent).end();
    const flushing = exporter.flush();
    // Ten more requests end meanwhile: none starts a send of its own.
    for (let i = 0; i < 10; i++) {
      tracer.start(`later ${i}`, SpanKind.SERVER, parent).end();
      expect(exporter.flush()).toBeUndefined();
    }
    c.release();
    await flushing;
    expect(c.sent.length).toBe(2);
    expect(spanCount(c.sent)).toBe(11);
  });

  it('is bounded: past maxBuffered it drops and counts; a failed send is dropped, counted and not retried', async () => {
    const c = collector(503);
    const exporter = new OtlpExporter({ service: 'gateway', endpoint: 'http://collector.test', fetch: c.fetch, maxBuffered: 5, batchSize: 2 });
    const tracer = new Tracer(exporter);
    for (let i = 0; i < 8; i++) tracer.start(`s${i}`, SpanKind.INTERNAL, parent).end();
    expect(exporter.dropped).toBe(3);
    await exporter.flush();
    // The first batch failed: the flush stopped there, the rest waits for the next request's flush.
    expect(c.sent.length).toBe(1);
    expect(exporter.failed).toBe(2);
    expect(exporter.buffered).toBe(3);
  });

  it('takes over from a send that hangs past its timeout', async () => {
    const c = collector();
    let now = 0;
    const exporter = new OtlpExporter({ service: 'gateway', endpoint: 'http://collector.test', fetch: c.fetch, now: () => now, sendTimeoutMs: 1000 });
    const tracer = new Tracer(exporter);
    c.hold();
    tracer.start('a', SpanKind.INTERNAL, parent).end();
    void exporter.flush();
    tracer.start('b', SpanKind.INTERNAL, parent).end();
    expect(exporter.flush()).toBeUndefined();
    now = 1001;
    c.release();
    const next = exporter.flush();
    expect(next).toBeDefined();
    await next;
    expect(spanCount(c.sent)).toBe(2);
  });
});
