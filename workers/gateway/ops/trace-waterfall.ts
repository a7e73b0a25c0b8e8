import type { OtlpTracesRequest } from '../../../shared/observability/otlp-json';

/**
 * One trace as a waterfall, rendered on the server (no script, so the page needs nothing but the
 * admin token its request already carried): one row per span, indented under its parent, its bar
 * placed on the trace's time axis, every worker's spans together.
 */

interface Row {
  service: string;
  name: string;
  spanId: string;
  parentSpanId: string | undefined;
  startMs: number;
  endMs: number;
  error: boolean;
  attributes: string;
}

const escape = (text: string) => text.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);
const ms = (nanos: string) => Number(BigInt(nanos) / 1000n) / 1000;

function rowsOf(trace: OtlpTracesRequest): Row[] {
  const rows: Row[] = [];
  for (const resource of trace.resourceSpans ?? []) {
    const service = resource.resource.attributes.find((a) => a.key === 'service.name')?.value.stringValue ?? 'unknown';
    for (const scope of resource.scopeSpans ?? []) {
      for (const span of scope.spans ?? []) {
        rows.push({
          service,
          name: span.name,
          spanId: span.spanId,
          parentSpanId: span.parentSpanId,
          startMs: ms(span.startTimeUnixNano),
          endMs: ms(span.endTimeUnixNano),
          error: span.status?.code === 2,
          attributes: (span.attributes ?? []).map((a) => `${a.key}=${String(Object.values(a.value)[0])}`).join('  '),
        });
      }
    }
  }
  return rows;
}

/** Depth-first from the roots (spans whose parent is not in the trace), children by start time. */
function ordered(rows: Row[]): { row: Row; depth: number }[] {
  const ids = new Set(rows.map((r) => r.spanId));
  const children = new Map<string | undefined, Row[]>();
  for (const row of rows) {
    const parent = row.parentSpanId && ids.has(row.parentSpanId) ? row.parentSpanId : undefined;
    children.set(parent, [...(children.get(parent) ?? []), row]);
  }
  const out: { row: Row; depth: number }[] = [];
  const visit = (parent: string | undefined, depth: number) => {
    for (const row of (children.get(parent) ?? []).sort((a, b) => a.startMs - b.startMs)) {
      out.push({ row, depth });
      visit(row.spanId, depth + 1);
    }
  };
  visit(undefined, 0);
  return out;
}

const COLOURS = ['#4e79a7', '#f28e2b', '#59a14f', '#b07aa1', '#76b7b2', '#edc948', '#9c755f', '#e15759'];

export function waterfallPage(traceId: string, trace: OtlpTracesRequest): string {
  const rows = ordered(rowsOf(trace));
  const start = Math.min(...rows.map((r) => r.row.startMs));
  const end = Math.max(...rows.map((r) => r.row.endMs));
  const total = Math.max(end - start, 1);
  const services = [...new Set(rows.map((r) => r.row.service))].sort();
  const colour = (service: string) => COLOURS[services.indexOf(service) % COLOURS.length];
  const body = rows
    .map(({ row, depth }) => {
      const left = ((row.startMs - start) / total) * 100;
      const width = Math.max(((row.endMs - row.startMs) / total) * 100, 0.3);
      return `<tr title="${escape(row.attributes)}"><td>${escape(row.service)}</td><td style="padding-left:${depth * 14}px">${row.error ? '⚠ ' : ''}${escape(row.name)}</td><td class="n">${(row.endMs - row.startMs).toFixed(1)} ms</td><td class="bar"><div style="margin-left:${left.toFixed(2)}%;width:${width.toFixed(2)}%;background:${colour(row.service)}"></div></td></tr>`;
    })
    .join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>trace ${escape(traceId)}</title>
<style>
body{font:13px system-ui,sans-serif;margin:1.5em}table{border-collapse:collapse;width:100%}td{padding:2px 6px;white-space:nowrap}
tr:nth-child(even){background:#f4f4f4}td.n{text-align:right;font-variant-numeric:tabular-nums}td.bar{width:50%}td.bar div{height:12px;border-radius:2px}
</style></head><body>
<h1>trace ${escape(traceId)}</h1>
<p>${rows.length} spans across ${services.map(escape).join(', ')}; ${total.toFixed(1)} ms from first start to last end. Hover a row for its attributes; <code>Accept: application/json</code> gives the OTLP/JSON.</p>
<table><thead><tr><th>service</th><th>span</th><th>duration</th><th>timeline</th></tr></thead><tbody>
${body}
</tbody></table></body></html>`;
}
