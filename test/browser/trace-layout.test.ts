import { describe, expect, it } from 'vitest';
import type { OtlpTracesRequest } from '../../shared/observability/otlp-json';
import { waterfallPage } from '../../workers/gateway/ops/trace-waterfall';
import { layoutTrace, MIN_BAR_PERCENT, SERVICE_COLOURS } from '../../workers/gateway/public/ops/trace-layout.js';

// The waterfall layout both the gateway's trace page and the dashboard's Traces panel draw
// (workers/gateway/public/ops/trace-layout.js), in Node: plain ES module code with no DOM.

const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const T0 = 1_765_000_000_000n * 1_000_000n;

/** A span starting `startMs` after T0 and lasting `ms`. */
const span = (spanId: string, parentSpanId: string | undefined, name: string, startMs: number, ms: number, extra: { kind?: number; error?: boolean; attributes?: { key: string; value: { stringValue?: string; intValue?: number } }[] } = {}) => ({
  traceId: TRACE,
  spanId,
  ...(parentSpanId ? { parentSpanId } : {}),
  name,
  kind: extra.kind ?? 1,
  startTimeUnixNano: String(T0 + BigInt(Math.round(startMs * 1_000_000))),
  endTimeUnixNano: String(T0 + BigInt(Math.round((startMs + ms) * 1_000_000))),
  attributes: extra.attributes ?? [],
  status: { code: extra.error ? 2 : 0 },
  links: [],
  flags: 1,
});

const resource = (service: string, spans: ReturnType<typeof span>[]) => ({
  resource: { attributes: [{ key: 'service.name', value: { stringValue: service } }] },
  scopeSpans: [{ scope: { name: 'stratus' }, spans }],
});

/** gateway request (0–40 ms) → attempt (2–38) → orders request (3–37) → two D1 calls; the receiver lists services in any order. */
const ORDER_TRACE: OtlpTracesRequest = {
  resourceSpans: [
    resource('orders', [
      span('cccccccccccccccc', 'bbbbbbbbbbbbbbbb', 'POST /orders', 3, 34, { kind: 2 }),
      // Listed before its earlier sibling: children are ordered by start, not by arrival.
      span('eeeeeeeeeeeeeeee', 'cccccccccccccccc', 'D1 batch', 20, 10, { kind: 3, error: true }),
      span('dddddddddddddddd', 'cccccccccccccccc', 'D1 SELECT', 5, 0, { kind: 3, attributes: [{ key: 'db.query.text', value: { stringValue: 'SELECT 1' } }] }),
    ]),
    resource('gateway', [
      span('aaaaaaaaaaaaaaaa', undefined, 'POST /api/orders', 0, 40, { kind: 2, attributes: [{ key: 'http.response.status_code', value: { intValue: 202 } }] }),
      span('bbbbbbbbbbbbbbbb', 'aaaaaaaaaaaaaaaa', 'POST orders', 2, 36, { kind: 3 }),
    ]),
  ],
};

describe('layoutTrace', () => {
  it('orders spans depth-first from the root, children by start time, each indented under its parent', () => {
    const { rows } = layoutTrace(ORDER_TRACE);
    expect(rows.map((r) => [r.depth, r.service, r.name, r.kind])).toEqual([
      [0, 'gateway', 'POST /api/orders', 'SERVER'],
      [1, 'gateway', 'POST orders', 'CLIENT'],
      [2, 'orders', 'POST /orders', 'SERVER'],
      [3, 'orders', 'D1 SELECT', 'CLIENT'],
      [3, 'orders', 'D1 batch', 'CLIENT'],
    ]);
  });

  it("places each bar on the trace's axis: offset and width as a share of first start to last end", () => {
    const { rows, totalMs, startMs } = layoutTrace(ORDER_TRACE);
    expect(totalMs).toBe(40);
    expect(startMs).toBe(Number(T0 / 1_000_000n));
    const batch = rows.find((r) => r.name === 'D1 batch')!;
    expect([batch.offsetMs, batch.durationMs, batch.leftPercent, batch.widthPercent]).toEqual([20, 10, 50, 25]);
    expect(batch.error).toBe(true);
    // A 0 ms span is still a visible sliver.
    const select = rows.find((r) => r.name === 'D1 SELECT')!;
    expect([select.durationMs, select.widthPercent]).toEqual([0, MIN_BAR_PERCENT]);
    expect(select.attributes).toBe('db.query.text=SELECT 1');
    expect(rows[0]!.attributes).toBe('http.response.status_code=202');
  });

  it('gives each service one colour, by its sorted name', () => {
    const { rows, services } = layoutTrace(ORDER_TRACE);
    expect(services).toEqual([
      { name: 'gateway', colour: SERVICE_COLOURS[0] },
      { name: 'orders', colour: SERVICE_COLOURS[1] },
    ]);
    expect(new Set(rows.filter((r) => r.service === 'orders').map((r) => r.colour))).toEqual(new Set([SERVICE_COLOURS[1]]));
  });

  it('keeps microseconds: epoch nanoseconds are past what a double holds exactly', () => {
    const { rows } = layoutTrace({ resourceSpans: [resource('gateway', [span('aaaaaaaaaaaaaaaa', undefined, 'GET /x', 0, 0.25)])] });
    expect(rows[0]!.durationMs).toBe(0.25);
  });

  it('shows a span whose parent is missing as a root, and one in a parent cycle too (never hides a span)', () => {
    const { rows } = layoutTrace({
      resourceSpans: [
        resource('payments', [
          span('1111111111111111', 'ffffffffffffffff', 'POST /payments/charges', 0, 5),
          span('2222222222222222', '3333333333333333', 'loop a', 1, 1),
          span('3333333333333333', '2222222222222222', 'loop b', 2, 1),
        ]),
      ],
    });
    expect(rows.map((r) => [r.name, r.depth])).toEqual([
      ['POST /payments/charges', 0],
      ['loop a', 0],
      ['loop b', 1],
    ]);
  });

  it('lays out an empty trace as nothing', () => {
    expect(layoutTrace({ resourceSpans: [] })).toEqual({ rows: [], services: [], startMs: 0, totalMs: 0 });
  });
});

describe('waterfallPage (the gateway\'s HTML view of the same layout)', () => {
  it('draws one row per span in layout order, indented, coloured and escaped', () => {
    const page = waterfallPage(TRACE, ORDER_TRACE);
    const names = [...page.matchAll(/<td style="padding-left:(\d+)px">(?:⚠ )?([^<]+)<\/td>/g)].map((m) => [Number(m[1]), m[2]]);
    expect(names).toEqual([
      [0, 'POST /api/orders'],
      [14, 'POST orders'],
      [28, 'POST /orders'],
      [42, 'D1 SELECT'],
      [42, 'D1 batch'],
    ]);
    expect(page).toContain('⚠ D1 batch');
    expect(page).toContain(`margin-left:50.00%;width:25.00%;background:${SERVICE_COLOURS[1]}`);
    expect(page).toContain('5 spans across gateway, orders; 40.0 ms from first start to last end');
    const hostile = waterfallPage(TRACE, { resourceSpans: [resource('<b>x</b>', [span('aaaaaaaaaaaaaaaa', undefined, '<script>', 0, 1)])] });
    expect(hostile).not.toContain('<script>');
    expect(hostile).not.toContain('<b>x</b>');
  });
});
