import type { OtlpTracesRequest } from '../../../shared/observability/otlp-json';
import { formatMs, layoutTrace } from '../public/ops/trace-layout.js';

/**
 * One trace as a waterfall page, rendered on the server (no script, so the page needs nothing but
 * the admin token its request already carried): one row per span, indented under its parent, its
 * bar placed on the trace's time axis, every worker's spans together. The layout (order, depth,
 * offsets, colours) is trace-layout.js's, the same the dashboard's Traces panel draws.
 */

const escape = (text: string) => text.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);

export function waterfallPage(traceId: string, trace: OtlpTracesRequest): string {
  const { rows, services, totalMs } = layoutTrace(trace);
  const body = rows
    .map(
      (row) =>
        `<tr title="${escape(row.attributes)}"><td>${escape(row.service)}</td><td style="padding-left:${row.depth * 14}px">${row.error ? '⚠ ' : ''}${escape(row.name)}</td><td class="n">${formatMs(row.durationMs)}</td><td class="bar"><div style="margin-left:${row.leftPercent.toFixed(2)}%;width:${row.widthPercent.toFixed(2)}%;background:${row.colour}"></div></td></tr>`,
    )
    .join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>trace ${escape(traceId)}</title>
<style>
body{font:13px system-ui,sans-serif;margin:1.5em}table{border-collapse:collapse;width:100%}td{padding:2px 6px;white-space:nowrap}
tr:nth-child(even){background:#f4f4f4}td.n{text-align:right;font-variant-numeric:tabular-nums}td.bar{width:50%}td.bar div{height:12px;border-radius:2px}
</style></head><body>
<h1>trace ${escape(traceId)}</h1>
<p>${rows.length} spans across ${services.map((s) => escape(s.name)).join(', ')}; ${formatMs(totalMs)} from first start to last end. Hover a row for its attributes; <code>Accept: application/json</code> gives the OTLP/JSON.</p>
<table><thead><tr><th>service</th><th>span</th><th>duration</th><th>timeline</th></tr></thead><tbody>
${body}
</tbody></table></body></html>`;
}
