import { createRoute, type RouteConfig } from '@hono/zod-openapi';
import { z } from 'zod';
import { jsonResponse, problemExample, problemResponse, validationProblem } from '../../../shared/openapi/describe';

/**
 * `/_ops/traces`, `/_ops/traces/{traceId}` and `/_ops/logs` (telemetry-routes.ts), described
 * beside their handlers; the document adds them to the gateway's own operations.
 */

const ops: Pick<RouteConfig, 'tags' | 'security'> = { tags: ['ops'], security: [{ adminToken: [] }] };
const opsUnauthorized = problemResponse(401, 'No operator token, or the wrong one.', 'The operations endpoints need Authorization: Bearer <ADMIN_TOKEN>.');
const noStore = problemResponse(
  503,
  'No trace store to read: OTEL_QUERY_URL is unset (a deployment; these views are for local development).',
  problemExample(503, 'OTEL_QUERY_URL is not set: traces and logs are viewed here in local development only.', { type: '/problems/no-trace-store' }),
);
const storeUnreachable = problemResponse(502, 'The trace store could not be reached.', 'The trace store at http://127.0.0.1:4318 could not be reached.');

const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';

const traceSummary = z.strictObject({
  traceId: z.string(),
  name: z.string().describe("The root span's name (`POST /api/orders`)."),
  service: z.string(),
  route: z.string().nullable(),
  status: z.number().int().nullable(),
  startedAt: z.iso.datetime(),
  durationMs: z.number().describe('From the first span to start to the last to end, deliveries included.'),
  spanCount: z.number().int(),
  services: z.array(z.string()),
});

const anyValue = z.union([
  z.strictObject({ stringValue: z.string() }),
  z.strictObject({ intValue: z.union([z.number().int(), z.string()]) }),
  z.strictObject({ doubleValue: z.number() }),
  z.strictObject({ boolValue: z.boolean() }),
]);
const keyValue = z.strictObject({ key: z.string(), value: anyValue });
const otlpSpan = z.strictObject({
  traceId: z.string(),
  spanId: z.string(),
  parentSpanId: z.string().optional(),
  name: z.string(),
  kind: z.number().int(),
  startTimeUnixNano: z.string(),
  endTimeUnixNano: z.string(),
  attributes: z.array(keyValue),
  status: z.strictObject({ code: z.number().int() }),
  links: z.array(z.strictObject({ traceId: z.string(), spanId: z.string() })).optional(),
  flags: z.number().int().optional(),
});
const otlpTrace = z.strictObject({
  resourceSpans: z.array(
    z.strictObject({
      resource: z.strictObject({ attributes: z.array(keyValue) }),
      scopeSpans: z.array(z.strictObject({ scope: z.strictObject({ name: z.string(), version: z.string().optional() }).optional(), spans: z.array(otlpSpan) })),
    }),
  ),
});
/** A log line: `ts, service, level, msg, requestId, traceId, spanId`, then whatever fields the line had. */
const logLine = z.record(z.string(), z.unknown());

const traceExample = {
  resourceSpans: [
    {
      resource: { attributes: [{ key: 'service.name', value: { stringValue: 'gateway' } }] },
      scopeSpans: [
        {
          scope: { name: 'stratus' },
          spans: [
            {
              traceId: TRACE_ID,
              spanId: '00f067aa0ba902b7',
              name: 'POST /api/orders',
              kind: 2,
              startTimeUnixNano: '1765000000123000000',
              endTimeUnixNano: '1765000000160000000',
              attributes: [{ key: 'http.response.status_code', value: { intValue: 202 } }],
              status: { code: 0 },
            },
          ],
        },
      ],
    },
  ],
};

export const telemetryApi: RouteConfig[] = [
  createRoute({
    method: 'get',
    path: '/_ops/traces',
    ...ops,
    summary: 'Recent traces, slowest first',
    description: 'From the local OTLP receiver every worker exports to (OTEL_QUERY_URL). `route` matches part of the root span\'s route; `status` is a code or a class (`5xx`).',
    request: {
      query: z.object({
        route: z.string().optional(),
        status: z.string().optional(),
        limit: z.coerce.number().int().min(1).max(500).default(50),
      }),
    },
    responses: {
      200: jsonResponse('Traces.', z.strictObject({ items: z.array(traceSummary) }), {
        items: [{ traceId: TRACE_ID, name: 'POST /api/orders', service: 'gateway', route: '/api/orders', status: 202, startedAt: '2026-11-23T12:00:00.000Z', durationMs: 412, spanCount: 31, services: ['catalog', 'gateway', 'notifications', 'orders', 'payments'] }],
      }),
      400: problemResponse(400, 'A status that is not a code or a class, or a limit outside 1 to 500.', validationProblem([{ path: 'status', message: 'a status code (201) or a class (5xx)' }])),
      401: opsUnauthorized,
      502: storeUnreachable,
      503: noStore,
    },
  }),
  createRoute({
    method: 'get',
    path: '/_ops/traces/{traceId}',
    ...ops,
    summary: "One trace: its spans as OTLP/JSON, or its waterfall",
    description: 'With `Accept: application/json`, every span of the trace from every worker, one resource per service, as OTLP/JSON; otherwise an HTML waterfall. Any trace id a response\'s `traceresponse` names.',
    request: { params: z.object({ traceId: z.string().regex(/^[0-9a-f]{32}$/) }) },
    responses: {
      200: {
        ...jsonResponse('The trace.', otlpTrace, traceExample),
        content: { ...jsonResponse('The trace.', otlpTrace, traceExample).content, 'text/html': { schema: z.string() } },
      },
      400: problemResponse(400, 'Not a trace id (32 lowercase hex digits).', validationProblem([{ path: 'traceId', message: '32 lowercase hex digits' }])),
      401: opsUnauthorized,
      404: problemResponse(404, 'No such trace in the store (never received, or past its retention).', `no trace ${TRACE_ID} here`),
      502: storeUnreachable,
      503: noStore,
    },
  }),
  createRoute({
    method: 'get',
    path: '/_ops/logs',
    ...ops,
    summary: 'Log lines from every worker',
    description: 'Oldest first, the newest `limit` that match: by request id, trace id, service, lowest level, and `q` (text anywhere in the line).',
    request: {
      query: z.object({
        requestId: z.string().optional(),
        traceId: z.string().optional(),
        service: z.string().optional(),
        level: z.enum(['debug', 'info', 'warn', 'error']).optional(),
        q: z.string().optional(),
        limit: z.coerce.number().int().min(1).max(1000).default(200),
      }),
    },
    responses: {
      200: jsonResponse('Matching lines.', z.strictObject({ items: z.array(logLine) }), {
        items: [{ ts: '2026-11-23T12:00:00.000Z', service: 'catalog', level: 'info', msg: 'request', requestId: 'req-1', traceId: TRACE_ID, spanId: 'b7ad6b7169203331', route: '/inventory/reservations', status: 201 }],
      }),
      400: problemResponse(400, 'An unknown level, a malformed trace id, or a limit outside 1 to 1000.', validationProblem([{ path: 'level', message: 'Invalid option' }])),
      401: opsUnauthorized,
      502: storeUnreachable,
      503: noStore,
    },
  }),
];
