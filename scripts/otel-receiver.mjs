#!/usr/bin/env node
// A small local OTLP/HTTP receiver, so the spans and log lines every worker exports
// (OTEL_EXPORTER_OTLP_ENDPOINT) can be looked at on a laptop and in tests, with no account and no
// network. It takes what any collector takes on :4318 (POST /v1/traces, POST /v1/logs, OTLP JSON),
// keeps it in memory, bounded, and answers queries the gateway's /_ops/traces and /_ops/logs read
// (OTEL_QUERY_URL):
//
//   GET /api/traces?route=&status=&limit=    recent traces, slowest first
//   GET /api/traces/<traceId>                that trace as OTLP JSON ({resourceSpans: [...]}), one
//                                            resource per service
//   GET /api/logs?requestId=&traceId=&service=&level=&q=&limit=   log lines, oldest first
//
// Retention: the last `maxTraces` traces (default 1000; a trace's spans are kept or dropped
// together, at most `maxSpansPerTrace` each, default 2000) and the last `maxLogLines` log lines
// (default 20000). Nothing is written to disk: a restart starts empty.
//
//   node scripts/otel-receiver.mjs     (port from OTEL_PORT, default 4318)
//
// Protobuf (application/x-protobuf) is refused with 415: every worker here sends JSON, and a real
// collector (Jaeger, Tempo, the OpenTelemetry Collector) is the place for anything else.
import { createServer } from 'node:http';
import { pathToFileURL } from 'node:url';
import { readBody } from './read-body.mjs';

export const LOCAL_OTEL_PORT = 4318;
const MAX_BODY_BYTES = 16 * 1024 * 1024;
const SEVERITY_RANK = { debug: 1, info: 2, warn: 3, error: 4 };

class ReceiverError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

/** An OTLP AnyValue as a plain value (ints may arrive as strings: the proto3 JSON mapping of int64). */
function plain(value) {
  if (!value || typeof value !== 'object') return undefined;
  if ('stringValue' in value) return value.stringValue;
  if ('boolValue' in value) return value.boolValue;
  if ('intValue' in value) return Number(value.intValue);
  if ('doubleValue' in value) return Number(value.doubleValue);
  if ('arrayValue' in value) return (value.arrayValue?.values ?? []).map(plain);
  if ('kvlistValue' in value) return attributesOf(value.kvlistValue?.values);
  return undefined;
}

const attributesOf = (keyValues) => Object.fromEntries((keyValues ?? []).map((kv) => [kv.key, plain(kv.value)]));
const serviceOf = (resource) => String(attributesOf(resource?.attributes)['service.name'] ?? 'unknown');
const nanosToMs = (nanos) => Number(BigInt(String(nanos ?? 0)) / 1_000_000n);

/** The trace's summary: its root (a span whose parent is not in the trace, earliest first), route, status and length. */
function summarise(traceId, trace) {
  const ids = new Set(trace.spans.map((entry) => entry.span.spanId));
  let root = null;
  let start = Infinity;
  let end = -Infinity;
  for (const entry of trace.spans) {
    const s = nanosToMs(entry.span.startTimeUnixNano);
    const e = nanosToMs(entry.span.endTimeUnixNano);
    start = Math.min(start, s);
    end = Math.max(end, e);
    const isRoot = !entry.span.parentSpanId || !ids.has(entry.span.parentSpanId);
    if (isRoot && (!root || s < nanosToMs(root.span.startTimeUnixNano))) root = entry;
  }
  const attributes = attributesOf(root?.span.attributes);
  return {
    traceId,
    name: root?.span.name ?? '',
    service: root?.service ?? '',
    route: attributes['http.route'] ?? null,
    status: attributes['http.response.status_code'] ?? null,
    startedAt: new Date(start).toISOString(),
    durationMs: end - start,
    spanCount: trace.spans.length,
    services: [...new Set(trace.spans.map((entry) => entry.service))].sort(),
  };
}

/** `status=` as a filter: `201` exactly, or a class (`5xx`). */
function statusMatches(filter, status) {
  if (!filter) return true;
  if (/^[1-5]xx$/i.test(filter)) return typeof status === 'number' && Math.floor(status / 100) === Number(filter[0]);
  return String(status) === filter;
}

function intParam(value, fallback, max) {
  if (value === null || value === '') return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > max) throw new ReceiverError(400, `limit must be an integer from 1 to ${max}`);
  return n;
}

/**
 * Starts the receiver. Resolves with its base URL (what OTEL_EXPORTER_OTLP_ENDPOINT and
 * OTEL_QUERY_URL name), `stats()` and `close()`.
 * @param {{ port?: number, host?: string, maxTraces?: number, maxSpansPerTrace?: number, maxLogLines?: number }} [options]
 */
export async function startOtelReceiver({ port = 0, host = '127.0.0.1', maxTraces = 1000, maxSpansPerTrace = 2000, maxLogLines = 20_000 } = {}) {
  /** traceId → { spans: [{service, span}] }, oldest first (a Map keeps insertion order). */
  const traces = new Map();
  /** Log lines as the query answers them, oldest first. */
  const logs = [];
  const counts = { spans: 0, logLines: 0, droppedTraces: 0, droppedSpans: 0, droppedLogLines: 0 };

  function addSpans(body) {
    for (const resourceSpans of body.resourceSpans ?? []) {
      const service = serviceOf(resourceSpans.resource);
      for (const scopeSpans of resourceSpans.scopeSpans ?? []) {
        for (const span of scopeSpans.spans ?? []) {
          if (typeof span?.traceId !== 'string' || typeof span.spanId !== 'string') throw new ReceiverError(400, 'every span needs a traceId and a spanId (hex)');
          let trace = traces.get(span.traceId);
          if (!trace) {
            trace = { spans: [] };
            traces.set(span.traceId, trace);
            if (traces.size > maxTraces) {
              traces.delete(traces.keys().next().value);
              counts.droppedTraces++;
            }
          }
          if (trace.spans.length >= maxSpansPerTrace) {
            counts.droppedSpans++;
            continue;
          }
          trace.spans.push({ service, span });
          counts.spans++;
        }
      }
    }
  }

  function addLogs(body) {
    const added = [];
    for (const resourceLogs of body.resourceLogs ?? []) {
      const service = serviceOf(resourceLogs.resource);
      for (const scopeLogs of resourceLogs.scopeLogs ?? []) {
        for (const record of scopeLogs.logRecords ?? []) {
          const attributes = attributesOf(record.attributes);
          added.push({
            ...attributes,
            ts: new Date(nanosToMs(record.timeUnixNano || record.observedTimeUnixNano)).toISOString(),
            service,
            level: String(record.severityText ?? 'INFO').toLowerCase(),
            msg: plain(record.body) ?? '',
            traceId: record.traceId || attributes.traceId || null,
            spanId: record.spanId || attributes.spanId || null,
            requestId: attributes.requestId ?? null,
          });
        }
      }
    }
    counts.logLines += added.length;
    for (const line of added) logs.push(line);
    if (logs.length > maxLogLines) {
      // One splice per batch, not a copy of the whole store per line.
      counts.droppedLogLines += logs.length - maxLogLines;
      logs.splice(0, logs.length - maxLogLines);
    }
  }

  function queryTraces(params) {
    const route = params.get('route');
    const status = params.get('status');
    const limit = intParam(params.get('limit'), 50, 500);
    const items = [];
    for (const [traceId, trace] of traces) {
      const summary = summarise(traceId, trace);
      if (route && !(String(summary.route ?? '').includes(route) || summary.name.includes(route))) continue;
      if (!statusMatches(status, summary.status)) continue;
      items.push(summary);
    }
    items.sort((a, b) => b.durationMs - a.durationMs);
    return { items: items.slice(0, limit) };
  }

  function traceAsOtlp(traceId) {
    const trace = traces.get(traceId);
    if (!trace) return null;
    const byService = new Map();
    for (const { service, span } of trace.spans) {
      if (!byService.has(service)) byService.set(service, []);
      byService.get(service).push(span);
    }
    return {
      resourceSpans: [...byService].map(([service, spans]) => ({
        resource: { attributes: [{ key: 'service.name', value: { stringValue: service } }] },
        scopeSpans: [{ scope: { name: 'stratus' }, spans: spans.sort((a, b) => (BigInt(a.startTimeUnixNano) < BigInt(b.startTimeUnixNano) ? -1 : 1)) }],
      })),
    };
  }

  function queryLogs(params) {
    const filters = ['requestId', 'traceId', 'service'].map((key) => [key, params.get(key)]).filter(([, value]) => value);
    const level = params.get('level');
    if (level && !(level in SEVERITY_RANK)) throw new ReceiverError(400, `level must be one of ${Object.keys(SEVERITY_RANK).join(', ')}`);
    const q = params.get('q')?.toLowerCase();
    const limit = intParam(params.get('limit'), 200, 1000);
    const matching = logs.filter(
      (line) =>
        filters.every(([key, value]) => line[key] === value) &&
        (!level || (SEVERITY_RANK[line.level] ?? 0) >= SEVERITY_RANK[level]) &&
        (!q || JSON.stringify(line).toLowerCase().includes(q)),
    );
    // The newest `limit`, oldest first: the order a request's story is read in.
    return { items: matching.slice(-limit) };
  }

  async function handle(req, res) {
    const url = new URL(req.url ?? '/', 'http://receiver.local');
    if (req.method === 'POST' && (url.pathname === '/v1/traces' || url.pathname === '/v1/logs')) {
      const type = String(req.headers['content-type'] ?? '').split(';')[0].trim();
      if (type !== 'application/json') throw new ReceiverError(415, 'this receiver takes OTLP/HTTP JSON (application/json) only');
      let body;
      try {
        body = JSON.parse((await readBody(req, { maxBytes: MAX_BODY_BYTES, error: (status, message) => new ReceiverError(status, message) })).toString('utf8'));
      } catch (error) {
        if (error instanceof ReceiverError) throw error;
        throw new ReceiverError(400, 'the body is not JSON');
      }
      if (url.pathname === '/v1/traces') addSpans(body);
      else addLogs(body);
      // ExportTraceServiceResponse / ExportLogsServiceResponse: everything accepted.
      return send(res, 200, {});
    }
    if (req.method === 'GET' && url.pathname === '/api/traces') return send(res, 200, queryTraces(url.searchParams));
    const one = /^\/api\/traces\/([0-9a-f]{32})$/.exec(url.pathname);
    if (req.method === 'GET' && one) {
      const trace = traceAsOtlp(one[1]);
      return trace ? send(res, 200, trace) : send(res, 404, { error: `no trace ${one[1]} here (never received, or older than the last ${maxTraces})` });
    }
    if (req.method === 'GET' && url.pathname === '/api/logs') return send(res, 200, queryLogs(url.searchParams));
    if (req.method === 'GET' && url.pathname === '/health') return send(res, 200, { status: 'ok' });
    throw new ReceiverError(404, `nothing at ${req.method} ${url.pathname}`);
  }

  function send(res, status, body) {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((error) => {
      if (res.headersSent) return res.destroy();
      send(res, error instanceof ReceiverError ? error.status : 500, { error: error instanceof Error ? error.message : String(error) });
    });
  });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, resolve);
  });
  const address = server.address();
  return {
    url: `http://${host}:${address.port}`,
    stats: () => ({ ...counts, traces: traces.size, logLinesKept: logs.length }),
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        // Exporters keep connections alive; close them too, or close() waits for their timeout.
        server.closeAllConnections();
      }),
  };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const receiver = await startOtelReceiver({ port: Number(process.env.OTEL_PORT || LOCAL_OTEL_PORT) });
  console.log(`OTLP receiver on ${receiver.url} (POST /v1/traces, /v1/logs; GET /api/traces, /api/logs)`);
}
