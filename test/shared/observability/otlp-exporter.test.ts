import { describe, expect, it } from 'vitest';
import { OtlpExporter, parseOtlpHeaders } from '../../../shared/observability/otlp-exporter';
import type { OtlpLogsRequest, OtlpTracesRequest } from '../../../shared/observability/otlp-json';
import { DISABLED_TRACER, SpanKind, SpanStatus, Tracer } from '../../../shared/observability/span';
import { DEFAULT_EXPORT_DELAY_MS, DISABLED_TELEMETRY, telemetryFor } from '../../../shared/observability/telemetry';
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

  it('with a schedule delay, gathers every request that ends within it into one send', async () => {
    const c = collector();
    let now = 0;
    const sleeps: number[] = [];
    let duringWait = () => {};
    const sleep = async (ms: number) => {
      sleeps.push(ms);
      now += ms;
      duringWait();
    };
    const exporter = new OtlpExporter({ service: 'gateway', endpoint: 'http://collector.test', fetch: c.fetch, now: () => now, scheduleDelayMs: 1000, sleep });
    const tracer = new Tracer(exporter);
    tracer.start('first', SpanKind.SERVER, parent).end();
    // Each 50 ms of the wait another request ends; its flush finds one waiting and sends nothing.
    duringWait = () => {
      tracer.start(`at ${now}`, SpanKind.SERVER, parent).end();
      expect(exporter.flush()).toBeUndefined();
    };
    const flushing = exporter.flush();
    expect(flushing).toBeDefined();
    await flushing;
    expect(sleeps.reduce((sum, ms) => sum + ms, 0)).toBe(1000);
    expect(c.sent.length).toBe(1);
    expect(spanCount(c.sent)).toBe(1 + sleeps.length);
  });

  it('sends before the delay is over once a whole batch is buffered', async () => {
    const c = collector();
    let now = 0;
    const sleeps: number[] = [];
    const exporter = new OtlpExporter({
      service: 'gateway',
      endpoint: 'http://collector.test',
      fetch: c.fetch,
      now: () => now,
      scheduleDelayMs: 60_000,
      batchSize: 4,
      sleep: async (ms) => {
        sleeps.push(ms);
        now += ms;
        tracer.start(`at ${now}`, SpanKind.SERVER, parent).end();
      },
    });
    const tracer = new Tracer(exporter);
    tracer.start('first', SpanKind.SERVER, parent).end();
    await exporter.flush();
    expect(sleeps).toEqual([50, 50, 50]);
    expect(spanCount(c.sent)).toBe(4);
  });

  it('OTEL_BSP_SCHEDULE_DELAY sets the delay: 1000 ms unset or invalid, 0 sends at once', () => {
    const delay = (value: string | undefined) => telemetryFor('gateway', { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector.test', OTEL_BSP_SCHEDULE_DELAY: value }).exporter?.scheduleDelayMs;
    expect(delay(undefined)).toBe(DEFAULT_EXPORT_DELAY_MS);
    expect(DEFAULT_EXPORT_DELAY_MS).toBe(1000);
    expect(delay('0')).toBe(0);
    expect(delay('250')).toBe(250);
    for (const bad of ['', ' ', '-1', '1.5', '5s', '600000']) expect(delay(bad), bad).toBe(DEFAULT_EXPORT_DELAY_MS);
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
