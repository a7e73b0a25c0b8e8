#!/usr/bin/env node
// `node bench/tracing/run.mjs`: what tracing adds to one proxied gateway request, in Node, with the
// exporter on and off. One request's work is what the gateway does for it: its request span (six
// attributes, adopted from the ids it already has), one upstream attempt span (a fresh id, four
// attributes, its traceparent, a status), and its request log line kept for export. The exporter's
// buffer is emptied every 512 requests as a flush would (the send itself, and the JSON encoding,
// run in waitUntil after the response, and are not on the request path). Prints ns per request; asserts nothing.
//   BENCH_ROUNDS (5), BENCH_TRACING_CALLS (200,000 per round)
import { positiveKnob } from '../lib/env-knob.mjs';
import { importTypeScript } from '../lib/import-typescript.mjs';
import { median } from '../lib/stats.mjs';

const rounds = positiveKnob('BENCH_ROUNDS', 5, { integer: true });
const calls = positiveKnob('BENCH_TRACING_CALLS', 200_000, { integer: true });

const span = await importTypeScript('shared/observability/span.ts', 'bench-tracing-span');
const exporterModule = await importTypeScript('shared/observability/otlp-exporter.ts', 'bench-tracing-exporter');
const traceContext = await importTypeScript('shared/observability/trace-context.ts', 'bench-tracing-context');

const exporter = new exporterModule.OtlpExporter({ service: 'gateway', endpoint: 'http://127.0.0.1:1' });
const on = new span.Tracer(exporter);
const off = span.DISABLED_TRACER;
const trace = traceContext.continueTrace('00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01', null);
const line = JSON.stringify({ ts: new Date().toISOString(), level: 'info', service: 'gateway', requestId: 'r', traceId: trace.traceId, msg: 'request' });

function request(tracer, now) {
  const attempt = tracer.start('GET catalog', span.SpanKind.CLIENT, trace, { 'http.request.method': 'GET', 'url.path': '/products', 'upstream.service': 'catalog', 'retry.attempt': 1 }, now);
  const header = attempt.traceparent();
  attempt.setAttribute('http.response.status_code', 200).end(span.SpanStatus.UNSET, now + 1);
  if (tracer.enabled) {
    tracer
      .adopt(trace, 'GET /api/catalog/*', span.SpanKind.SERVER, now, {
        'http.request.method': 'GET',
        'http.route': '/api/catalog/*',
        'url.path': '/api/catalog/products',
        'http.response.status_code': 200,
        'request.id': 'r',
        'upstream.service': 'catalog',
      })
      .end(span.SpanStatus.UNSET, now + 2);
    exporter.log(line);
  }
  return header.length;
}

function round(tracer) {
  const started = process.hrtime.bigint();
  let sink = 0;
  for (let i = 0; i < calls; i++) {
    sink += request(tracer, 1_765_000_000_000 + i);
    // A flush takes a batch away every 512 (its send is not timed: it runs after the response).
    if ((i & 511) === 511) {
      exporter.spans = [];
      exporter.lines = [];
    }
  }
  const ns = Number(process.hrtime.bigint() - started) / calls;
  return sink > 0 ? ns : NaN;
}

const results = { off: [], on: [] };
round(on);
round(off);
for (let r = 0; r < rounds; r++) {
  results.off.push(round(off));
  results.on.push(round(on));
}
const offNs = median(results.off);
const onNs = median(results.on);
console.log(`tracing per proxied request (median of ${rounds} rounds of ${calls}): off ${offNs.toFixed(0)} ns, on ${onNs.toFixed(0)} ns (+${(onNs - offNs).toFixed(0)} ns)`);
