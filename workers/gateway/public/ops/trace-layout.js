// One trace laid out as a waterfall, from the OTLP/JSON `/_ops/traces/:traceId` answers: one row
// per span, depth-first from the roots with children by start time, each placed on the trace's
// time axis and coloured by its service. The one place this is worked out: the gateway's
// server-rendered page (workers/gateway/ops/trace-waterfall.ts) and the dashboard's Traces panel
// (traces-panel.js) both draw what this returns. Plain ES module code with no DOM, so the
// browser, the worker and a Node test all import it.

/** One colour per service, in the order of the services' sorted names (then round again). */
export const SERVICE_COLOURS = ['#4e79a7', '#f28e2b', '#59a14f', '#b07aa1', '#76b7b2', '#edc948', '#9c755f', '#e15759'];

/** A bar is never drawn narrower than this (percent of the axis), so a 0 ms span still shows. */
export const MIN_BAR_PERCENT = 0.3;

const KIND_NAMES = ['UNSPECIFIED', 'INTERNAL', 'SERVER', 'CLIENT', 'PRODUCER', 'CONSUMER'];

/** Epoch nanoseconds (a decimal string: past 2^53) as milliseconds, to the microsecond. */
const msOf = (nanos) => Number(BigInt(nanos) / 1000n) / 1000;

/** An OTLP AnyValue as text (`intValue` may be a string: the proto3 JSON mapping of int64). */
const textOf = (value) => String(value?.stringValue ?? value?.intValue ?? value?.doubleValue ?? value?.boolValue ?? '');

function spansOf(trace) {
  const spans = [];
  for (const resource of trace.resourceSpans ?? []) {
    const service = textOf(resource.resource?.attributes?.find((a) => a.key === 'service.name')?.value) || 'unknown';
    for (const scope of resource.scopeSpans ?? []) {
      for (const span of scope.spans ?? []) {
        spans.push({
          service,
          name: span.name,
          spanId: span.spanId,
          parentSpanId: span.parentSpanId || null,
          kind: KIND_NAMES[span.kind] ?? String(span.kind),
          startMs: msOf(span.startTimeUnixNano),
          endMs: msOf(span.endTimeUnixNano),
          error: span.status?.code === 2,
          attributes: (span.attributes ?? []).map((a) => `${a.key}=${textOf(a.value)}`).join('  '),
        });
      }
    }
  }
  return spans;
}

/**
 * Depth-first from the roots (spans whose parent is not in the trace), children by start time.
 * A span no root leads to (a parent cycle, which a well-formed trace never has) is still listed,
 * as a root of its own: a waterfall never hides a span.
 */
function ordered(spans) {
  const ids = new Set(spans.map((s) => s.spanId));
  const children = new Map();
  for (const span of spans) {
    const parent = span.parentSpanId && ids.has(span.parentSpanId) ? span.parentSpanId : null;
    if (!children.has(parent)) children.set(parent, []);
    children.get(parent).push(span);
  }
  for (const list of children.values()) list.sort((a, b) => a.startMs - b.startMs);
  const out = [];
  const placed = new Set();
  const visit = (span, depth) => {
    if (placed.has(span.spanId)) return;
    placed.add(span.spanId);
    out.push({ span, depth });
    for (const child of children.get(span.spanId) ?? []) visit(child, depth + 1);
  };
  for (const root of children.get(null) ?? []) visit(root, 0);
  for (const span of spans) visit(span, 0);
  return out;
}

/**
 * The waterfall of one trace (OTLP/JSON): `{ rows, services, startMs, totalMs }`. Each row has
 * the span's service, name, kind, ids, `depth` (0 for a root), `offsetMs` from the trace's first
 * start, `durationMs`, `leftPercent` and `widthPercent` on the axis, its service's `colour`,
 * `error` (status ERROR) and its attributes as `key=value` text. `services` are sorted, each with
 * its colour; `totalMs` runs from the first start to the last end.
 */
export function layoutTrace(trace) {
  const spans = spansOf(trace);
  if (spans.length === 0) return { rows: [], services: [], startMs: 0, totalMs: 0 };
  const startMs = Math.min(...spans.map((s) => s.startMs));
  const totalMs = Math.max(...spans.map((s) => s.endMs)) - startMs;
  // The axis is at least 1 ms long: a trace of 0 ms spans still has bars to place.
  const axisMs = Math.max(totalMs, 1);
  const names = [...new Set(spans.map((s) => s.service))].sort();
  const colourOf = (service) => SERVICE_COLOURS[names.indexOf(service) % SERVICE_COLOURS.length];
  const rows = ordered(spans).map(({ span, depth }) => {
    const offsetMs = span.startMs - startMs;
    const durationMs = Math.max(span.endMs - span.startMs, 0);
    return {
      service: span.service,
      name: span.name,
      kind: span.kind,
      spanId: span.spanId,
      parentSpanId: span.parentSpanId,
      depth,
      offsetMs,
      durationMs,
      leftPercent: (offsetMs / axisMs) * 100,
      widthPercent: Math.max((durationMs / axisMs) * 100, MIN_BAR_PERCENT),
      colour: colourOf(span.service),
      error: span.error,
      attributes: span.attributes,
    };
  });
  return { rows, services: names.map((name) => ({ name, colour: colourOf(name) })), startMs, totalMs };
}

/** Milliseconds as the waterfalls print them: one decimal. */
export const formatMs = (ms) => `${ms.toFixed(1)} ms`;
