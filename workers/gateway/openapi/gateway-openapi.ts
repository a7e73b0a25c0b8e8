import { createRoute, type RouteConfig } from '@hono/zod-openapi';
import { z } from 'zod';
import { chaosSettingsSchema } from '../../../shared/chaos/chaos-settings';
import { cloudEventSchema } from '../../../shared/events/cloud-event';
import topology from '../../../shared/events/topology.json';
import { emptyResponse, header, jsonBody, jsonContent, jsonResponse, problemExample, problemResponse, validationProblem } from '../../../shared/openapi/describe';
import { productView } from '../../catalog/catalog-openapi';
import { projectionOperations } from '../../ledger/ledger-openapi';
import { sagaListQuery } from '../../orders/order-schemas';
import { orderView, orderExample } from '../../orders/orders-openapi';
import { profileView, profileExample } from '../../users/users-openapi';
import { describesExactly, type SameShape } from '../../../shared/openapi/same-type';
import type { ReadinessReport } from '../../../shared/observability/readiness';
import type { listDeadLetters } from '../ops/dead-letters';
import { opsMetricsSchema } from '../ops/ops-metrics';
import { releaseOperations } from './release-openapi';
import { routes } from '../routes';
import { isVersioned, weightsBodySchema, type VersionedRoute } from '../traffic/route-versions';

/**
 * The gateway's own endpoints (docs/api.md "Health and metrics", "Operations", "Event deliveries",
 * the BFF and feature flags) and the documentation itself. Written here, beside the handlers in
 * index.ts, ops/ops.ts, traffic/flags.ts and bff/home.ts, with the schemas those handlers validate with
 * (chaos settings, route weights, the sagas' query, CloudEvents).
 */

const ops: Pick<RouteConfig, 'tags' | 'security'> = { tags: ['ops'], security: [{ adminToken: [] }] };
const opsUnauthorized = problemResponse(401, 'No operator token, or the wrong one.', 'The operations endpoints need Authorization: Bearer <ADMIN_TOKEN>.', {
  'WWW-Authenticate': { ...header.wwwAuthenticate, example: 'Bearer realm="stratus-ops"' },
});
const chaosDisabled = problemResponse(
  403,
  'Fault injection is off here.',
  problemExample(403, 'Fault injection is off here: set ALLOW_CHAOS=true to allow it (it is on in local development).', { type: '/problems/chaos-disabled' }),
);
const opsUnreachable = (what: string) => problemResponse(502, `${what} could not be reached, or refused the gateway's call.`, `${what} could not be reached.`);

const status = z.enum(['up', 'down']);
const readiness = z.strictObject({
  status: z.enum(['ready', 'not_ready']),
  checks: z.record(z.string(), z.strictObject({ status, error: z.string().optional() })),
});

/** `GET /_ops/alerts` (monitoring/alert-evaluator.ts `AlertItem`). */
const alertsSchema = z.strictObject({
  items: z.array(
    z.strictObject({
      rule: z.string(),
      kind: z.enum(['breaker_open', 'dlq_not_empty', 'saga_stuck', 'route_5xx_ratio', 'route_p99', 'synthetic_failed']),
      state: z.enum(['inactive', 'pending', 'firing', 'resolved']),
      since: z.iso.datetime(),
      value: z.number().optional(),
    }),
  ),
});

/** One upstream's breaker as `GET /_ops/breakers` shows it (ops/ops.ts, from circuit-breaker.ts `BreakerSnapshot`). */
export const breakerState = z.strictObject({
  state: z.enum(['closed', 'open', 'half-open']),
  failureRate: z
    .number()
    .min(0)
    .max(1)
    .nullable()
    .describe('Share of failed calls, 0 to 1: over the window while closed, at the moment it opened while open; null while half-open (probes decide, not a rate).'),
  calls: z.number().int().min(0).describe('Calls in the window while closed; that made it open while open; probes while half-open.'),
  openedAt: z.iso.datetime().optional(),
  nextProbeAt: z.iso.datetime().optional(),
  transitions: z.record(z.string(), z.number().int()).describe('How often each transition happened, e.g. `closed->open`.'),
});

/** One pool of HTTP origins as `GET /_ops/origins` shows it (ops/origin-pools-view.ts). */
const originPoolSchema = z.strictObject({
  prefix: z.string(),
  balancer: z.enum(['round-robin', 'smooth-weighted', 'least-outstanding', 'consistent-hash', 'rendezvous']),
  hashBy: z.enum(['user', 'cookie', 'ip']).optional(),
  healthPath: z.string(),
  origins: z.array(
    z.strictObject({
      name: z.string(),
      url: z.string(),
      weight: z.number().int().min(1),
      healthy: z.boolean().describe('Picked now: its breaker lets calls through and its last health check passed (or there is none yet).'),
      check: z
        .strictObject({ status: status, checkedAt: z.number().int(), latencyMs: z.number(), httpStatus: z.number().int().optional(), error: z.string().optional() })
        .nullable()
        .describe('The last scheduled `GET <healthPath>` (the gateway cron), null before the first.'),
      breaker: breakerState.pick({ state: true, failureRate: true, calls: true }).nullable().describe("The origin's own circuit breaker (passive health)."),
      requests: z.number().int().min(0),
      share: z.number().min(0).max(1).nullable().describe("Its share of the pool's attempts, null before any."),
    }),
  ),
});

const catalogRoute = routes.find((r): r is VersionedRoute => r.name === 'catalog' && isVersioned(r));
if (!catalogRoute) throw new Error('the catalog route has no versions: the /_ops/routes example needs one');
const weightsBody = weightsBodySchema(catalogRoute);
const routeWeights = z.record(
  z.string(),
  z.strictObject({
    versions: z.array(z.string()),
    weights: z.record(z.string(), z.number().int()),
    allow: z.record(z.string(), z.array(z.string())).describe('Signed-in users sent to a version whatever the weights ("employees first").'),
  }),
);

const part = <T extends z.ZodType>(data: T) =>
  z.union([z.strictObject({ status: z.literal('ok'), data, degraded: z.literal(true).optional() }), z.strictObject({ status: z.literal('unavailable'), reason: z.string() })]);
const home = z.strictObject({ featured: part(z.array(z.unknown())), profile: part(z.unknown()).nullable(), recentOrders: part(z.array(z.unknown())).nullable() });

const deadLetter = z.strictObject({
  dlqId: z.string(),
  messageId: z.string(),
  url: z.string(),
  topicName: z.string().nullable(),
  queueName: z.string().nullable(),
  createdAt: z.iso.datetime(),
  responseStatus: z.number().int().nullable(),
  responseBody: z.string().nullable(),
  body: z.string().nullable(),
  maxRetries: z.number().int().nullable(),
});

const deadLetterPage = z.strictObject({ items: z.array(deadLetter), cursor: z.string().nullable() });

// The answers' schemas are exactly the handlers' types (shared/openapi/same-type.ts).
describesExactly<SameShape<z.output<typeof readiness>, ReadinessReport>>();
describesExactly<SameShape<z.output<typeof deadLetterPage>, Awaited<ReturnType<typeof listDeadLetters>>>>();

const product: z.input<typeof productView> = { id: 'prod_1', name: 'Trail running shoes', description: '', priceCents: 12_900, currency: 'USD', stock: 42 };

/** `POST /hooks/<consumer>` for each consumer in shared/events/topology.json. */
const hookOperations = Object.entries(topology.consumers).map(([consumer, path]) =>
  createRoute({
    method: 'post',
    path,
    tags: ['hooks'],
    summary: `Event delivery to ${consumer}`,
    description:
      'For QStash only: the raw body and `Upstash-Signature` reach the consumer, which verifies the signature (current and next signing keys) and refuses anything unsigned or tampered with. A non-2xx answer is redelivered with backoff, then dead-lettered.',
    security: [],
    request: {
      headers: z.object({ 'upstash-signature': z.string().describe('The JWT QStash signs each delivery with (body hash, URL, expiry).') }),
      body: jsonBody(cloudEventSchema, {
        specversion: '1.0',
        id: 'evt_0b1c2d3e',
        source: 'stratus/orders',
        type: 'order.completed',
        time: '2026-11-23T12:00:00Z',
        datacontenttype: 'application/json',
        data: { orderId: 'ord_0123456789abcdef0123456789abcdef' },
        traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
      }),
    },
    responses: {
      200: emptyResponse('Handled (or already handled: deliveries are at least once, consumers dedupe).'),
      400: problemResponse(400, 'Not a CloudEvent the consumer accepts (not retried usefully).', validationProblem([{ path: 'specversion', message: 'Invalid input: expected "1.0"' }])),
      401: problemResponse(401, 'Unsigned, or the signature does not match the body.', 'The Upstash-Signature is missing or does not verify.'),
    },
  }),
);

export const gatewayApi: RouteConfig[] = [
  createRoute({
    method: 'get',
    path: '/health',
    tags: ['gateway'],
    summary: 'Liveness',
    description: 'The isolate runs; touches no dependency.',
    security: [],
    responses: { 200: jsonResponse('Alive.', z.strictObject({ status: z.literal('ok') }), { status: 'ok' }) },
  }),
  createRoute({
    method: 'get',
    path: '/ready',
    tags: ['gateway'],
    summary: 'Readiness',
    description: 'Every service the gateway routes to answers its own /ready within the deadline.',
    security: [],
    responses: {
      200: jsonResponse('Every dependency is up.', readiness, { status: 'ready', checks: { catalog: { status: 'up' }, users: { status: 'up' } } }),
      503: jsonResponse('At least one dependency is down.', readiness, { status: 'not_ready', checks: { catalog: { status: 'down', error: 'timed out after 2000 ms' }, users: { status: 'up' } } }),
    },
  }),
  createRoute({
    method: 'get',
    path: '/metrics',
    tags: ['gateway'],
    summary: 'Prometheus metrics',
    description: 'Totals across all isolates: requests, latency histograms, breaker states, rate-limit decisions, cache results, sagas.',
    security: [],
    responses: {
      200: {
        description: 'Prometheus text exposition format.',
        content: { 'text/plain': { schema: z.string(), example: 'http_requests_total{service="catalog",route="/api/catalog/*",method="GET",status="200"} 12\n' } },
      },
    },
  }),
  createRoute({
    method: 'get',
    path: '/api/flags',
    tags: ['gateway'],
    summary: 'Feature flags for the caller',
    description: 'Evaluated per caller (user id, else the `stratus_uid` cookie, set on this answer if missing): a rollout raised from 10% to 20% only adds callers.',
    security: [{}, { bearerAuth: [] }],
    responses: {
      200: jsonResponse('The flags as they fall for this caller.', z.strictObject({ flags: z.record(z.string(), z.boolean()) }), { flags: { 'new-checkout': true } }),
      401: problemResponse(401, 'An access token was sent and does not verify.', 'The access token is not valid.'),
    },
  }),
  ...(['web', 'mobile'] as const).map((client) =>
    createRoute({
      method: 'get',
      path: `/bff/${client}/home`,
      tags: ['bff'],
      summary: `Home screen for ${client}`,
      description: `One call per screen, composed at the edge from catalog, users and orders in parallel, each with its own deadline, each allowed to fail alone (\`unavailable\`). \`profile\` and \`recentOrders\` are \`null\` for an anonymous caller.${client === 'mobile' ? ' A smaller shape and tighter deadlines than web.' : ''}`,
      security: [{}, { bearerAuth: [] }],
      responses: {
        200: jsonResponse('Whatever could be shown.', home, {
          featured: { status: 'ok', data: [product] },
          profile: { status: 'ok', data: profileExample },
          recentOrders: { status: 'unavailable', reason: 'timeout' },
        }),
        401: problemResponse(401, 'An access token was sent and does not verify.', 'The access token is not valid.'),
        502: jsonResponse('Every part failed.', home, { featured: { status: 'unavailable', reason: 'timeout' }, profile: null, recentOrders: null }),
      },
    }),
  ),
  createRoute({
    method: 'get',
    path: '/_ops',
    ...ops,
    security: [],
    summary: 'Ops dashboard (HTML)',
    description: 'The page asks for the operator token itself and keeps it in the tab; the data it shows comes from the /_ops endpoints below.',
    responses: { 200: { description: 'The dashboard.', content: { 'text/html': { schema: z.string() } } } },
  }),
  createRoute({
    method: 'get',
    path: '/_ops/breakers',
    ...ops,
    summary: "Every upstream's circuit breaker",
    responses: {
      200: jsonResponse('By upstream, named as its service.', z.record(z.string(), breakerState), {
        catalog: { state: 'open', failureRate: 0.8, calls: 10, openedAt: '2026-11-23T12:00:00.000Z', nextProbeAt: '2026-11-23T12:00:10.000Z', transitions: { 'closed->open': 1 } },
        orders: { state: 'closed', failureRate: 0, calls: 4, transitions: {} },
      }),
      401: opsUnauthorized,
    },
  }),
  createRoute({
    method: 'post',
    path: '/_ops/live/ticket',
    ...ops,
    summary: "A one-time ticket for the dashboard's socket",
    description: 'Opens one `GET /_ops/live?ticket=` within `expiresIn` seconds; `name` is what the other operators see in the presence list.',
    request: { body: jsonBody(z.strictObject({ name: z.string().trim().min(1).max(40).optional() }), { name: 'ada' }) },
    responses: {
      201: jsonResponse('The ticket.', z.strictObject({ ticket: z.string(), expiresIn: z.number().int() }), { ticket: 'q0d3bqJ6a5kq3PZ4vT1QeX2Hn8sYw7uLm9cR4fG6jKo', expiresIn: 30 }),
      400: problemResponse(400, 'A name that is empty or over 40 characters.', validationProblem([{ path: 'name', message: 'Too big: expected string to have <=40 characters' }])),
      401: opsUnauthorized,
    },
  }),
  createRoute({
    method: 'get',
    path: '/_ops/live',
    tags: ['ops'],
    security: [],
    summary: "The ops dashboard's socket (WebSocket)",
    description:
      'A WebSocket, opened with a one-time `?ticket=` from `POST /_ops/live/ticket` (browsers cannot set `Authorization` on a WebSocket), checked before the upgrade. JSON messages: `{type:"breakers", breakers}` (as `GET /_ops/breakers`) and `{type:"sagas", sagas}` (as `GET /_ops/sagas?limit=10`) at once and then whenever they change, `{type:"presence", count, names}` whenever an operator comes or goes, `{type:"error", panel, message}` when a panel cannot be read.',
    request: { query: z.object({ ticket: z.string().describe('The one-time ticket.') }) },
    responses: {
      101: { description: 'Switching protocols: the socket is open.' },
      401: problemResponse(401, 'No ticket, or one unknown, used or expired.', 'The ticket is unknown, used or expired: ask POST /_ops/live/ticket (with the ops token) for another.'),
      426: problemResponse(426, 'Not a WebSocket upgrade.', 'This is a WebSocket: send Upgrade: websocket.'),
      429: problemResponse(429, 'Too many dashboard sockets are open.', 'Too many dashboard sockets are open.'),
    },
  }),
  createRoute({
    method: 'get',
    path: '/_ops/origins',
    ...ops,
    summary: 'Each pool of HTTP origins: its origins, their health and share of traffic',
    description:
      "By pool route (`legacy`: the strangler fig's monolith). An origin is `healthy` (picked) while its breaker lets calls through and its last scheduled `GET /health` (the gateway's cron) passed or is unknown; `requests` and `share` count the attempts sent to it across every isolate.",
    responses: {
      200: jsonResponse('By pool route.', z.record(z.string(), originPoolSchema), {
        legacy: {
          prefix: '/',
          balancer: 'round-robin',
          healthPath: '/health',
          origins: [
            {
              name: 'monolith',
              url: 'http://127.0.0.1:8790',
              weight: 1,
              healthy: true,
              check: { status: 'up', checkedAt: 1795000000000, latencyMs: 3, httpStatus: 200 },
              breaker: { state: 'closed', failureRate: 0, calls: 12 },
              requests: 12,
              share: 1,
            },
          ],
        },
      }),
      401: opsUnauthorized,
    },
  }),
  createRoute({
    method: 'get',
    path: '/_ops/metrics',
    ...ops,
    summary: "The dashboard's numbers",
    description: 'Per-route request totals and latency histograms, and the rate-limit and cache ratios: the totals `/metrics` renders, as JSON. Totals, not rates: take rates from two reads and their `at`.',
    responses: {
      200: jsonResponse('Totals across all isolates now.', opsMetricsSchema, {
        at: '2026-11-23T12:00:00.000Z',
        routes: [{ service: 'catalog', route: '/api/catalog/*', requests: 12, serverErrors: 1, durationSeconds: { bounds: [0.005, 0.05, 0.5], counts: [2, 8, 2, 0], sum: 0.31, count: 12 } }],
        rateLimits: [{ route: '/api/catalog/*', allowed: 11, refused: 1, error: 0, refusedRatio: 1 / 12 }],
        cache: [{ route: '/api/catalog/*', hit: 6, stale: 0, miss: 2, bypass: 4, hitRatio: 0.75 }],
      }),
      401: opsUnauthorized,
    },
  }),
  createRoute({
    method: 'get',
    path: '/_ops/alerts',
    ...ops,
    summary: "Every alert rule's state",
    description:
      'The rules of `ALERT_RULES` (or the defaults), each as the AlertEvaluator last judged it: `inactive`, `pending` (the condition holds, not yet for its `for`), `firing`, or `resolved`; `since` is when that state began, `value` what the rule last measured. Reading it also starts the evaluator. 503 when `ALERT_RULES` or another alert setting is invalid.',
    responses: {
      200: jsonResponse('In the configured order.', alertsSchema, {
        items: [
          { rule: 'breaker-open', kind: 'breaker_open', state: 'firing', since: '2026-11-23T12:00:30.000Z', value: 2 },
          { rule: 'synthetic-check', kind: 'synthetic_failed', state: 'inactive', since: '2026-11-23T11:00:00.000Z', value: 0 },
        ],
      }),
      401: opsUnauthorized,
      503: problemResponse(503, 'The alert settings are invalid; `detail` names the variable.', problemExample(503, 'invalid gateway (alerts and synthetic check) configuration: ALERT_RULES: not valid JSON', { type: '/problems/alerts-misconfigured' })),
    },
  }),
  createRoute({
    method: 'get',
    path: '/_ops/chaos',
    ...ops,
    summary: "Every service's fault injection now",
    description: 'By service (versions too: `catalog-canary`), `null` where none is set. A service that cannot be asked is left out. Refused (403) unless `ALLOW_CHAOS` is true.',
    responses: {
      200: jsonResponse('The settings each service applies.', z.record(z.string(), chaosSettingsSchema.nullable()), { catalog: { failureRate: 0.5, status: 503, latencyMs: 200, hang: false }, users: null }),
      401: opsUnauthorized,
      403: chaosDisabled,
    },
  }),
  createRoute({
    method: 'put',
    path: '/_ops/chaos/{service}',
    ...ops,
    summary: 'Inject faults into a service',
    description: 'Across all its isolates. Refused (403) unless `ALLOW_CHAOS` is true (it is under `npm run dev`).',
    request: { params: z.object({ service: z.string().describe('A service name: catalog, catalog-canary, users, orders, payments, notifications, ledger.') }), body: jsonBody(chaosSettingsSchema, { failureRate: 0.5, status: 503, latencyMs: 200 }) },
    responses: {
      200: jsonResponse('The settings the service now applies.', z.strictObject({ service: z.string(), chaos: chaosSettingsSchema }), { service: 'catalog', chaos: { failureRate: 0.5, status: 503, latencyMs: 200, hang: false } }),
      400: problemResponse(400, 'Not valid chaos settings.', validationProblem([{ path: 'failureRate', message: 'failureRate is a fraction: 0 (none) to 1 (every request)' }])),
      401: opsUnauthorized,
      403: chaosDisabled,
      404: problemResponse(404, 'No such service.', 'No service named "nope".'),
      502: opsUnreachable('The service'),
    },
  }),
  createRoute({
    method: 'delete',
    path: '/_ops/chaos/{service}',
    ...ops,
    summary: 'Stop injecting faults',
    request: { params: z.object({ service: z.string() }) },
    responses: { 204: emptyResponse('Chaos off.'), 401: opsUnauthorized, 403: chaosDisabled, 404: problemResponse(404, 'No such service.'), 502: opsUnreachable('The service') },
  }),
  createRoute({
    method: 'get',
    path: '/_ops/routes',
    ...ops,
    summary: 'Canary / blue-green weights',
    responses: { 200: jsonResponse('Each route with versions.', routeWeights, { catalog: { versions: ['v1', 'v2'], weights: { v1: 90, v2: 10 }, allow: { v2: ['usr_staff_1'] } } }), 401: opsUnauthorized },
  }),
  createRoute({
    method: 'put',
    path: '/_ops/routes/{name}',
    ...ops,
    summary: "Change a route's weights",
    description:
      'Whole percents naming exactly the route\'s versions, summing to 100; every isolate follows within `ROUTE_WEIGHTS_REFRESH_MS`, no redeploy. `allow` replaces the allow lists (left out: kept). 409 while an automated rollout runs, unless only `allow` changes.',
    request: { params: z.object({ name: z.string() }), body: jsonBody(weightsBody, { weights: { v1: 90, v2: 10 }, allow: { v2: ['usr_staff_1'] } }) },
    responses: {
      200: jsonResponse('The route\'s weights now.', routeWeights, { catalog: { versions: ['v1', 'v2'], weights: { v1: 90, v2: 10 }, allow: { v2: ['usr_staff_1'] } } }),
      400: problemResponse(400, 'Weights that do not name every version or do not sum to 100.', validationProblem([{ path: 'weights.v3', message: 'unknown version; catalog has v1, v2' }])),
      401: opsUnauthorized,
      404: problemResponse(404, 'No route with versions by that name.', 'No route with versions named "nope"; routes with versions are catalog.'),
    },
  }),
  createRoute({
    method: 'get',
    path: '/_ops/sagas',
    ...ops,
    summary: 'Sagas and their step timelines',
    description: 'Newest first, from the orders service.',
    request: { query: sagaListQuery },
    responses: {
      200: jsonResponse('Sagas.', z.strictObject({ items: z.array(orderView.extend({ userId: z.string() })) }), { items: [{ ...orderExample, userId: 'usr_1' }] }),
      400: problemResponse(400, 'An unknown status, or a limit outside 1 to 200.', validationProblem([{ path: 'status', message: 'Invalid option: expected one of "PENDING"|"COMPENSATING"|"STUCK"|"COMPLETED"|"CANCELLED"' }])),
      401: opsUnauthorized,
      502: opsUnreachable('The orders service'),
    },
  }),
  createRoute({
    method: 'get',
    path: '/_ops/dlq',
    ...ops,
    summary: 'Dead-lettered deliveries',
    description: 'Deliveries QStash gave up on, with the consumer\'s last answer.',
    request: { query: z.object({ cursor: z.string().optional() }) },
    responses: {
      200: jsonResponse('A page of dead letters.', deadLetterPage, {
        items: [
          {
            dlqId: 'dlq_1',
            messageId: 'msg_1',
            url: 'http://127.0.0.1:8787/hooks/notifications',
            topicName: 'order-events',
            queueName: null,
            createdAt: '2026-11-23T12:00:00.000Z',
            responseStatus: 500,
            responseBody: '{"title":"Internal Server Error"}',
            body: '{"specversion":"1.0"}',
            maxRetries: 3,
          },
        ],
        cursor: null,
      }),
      401: opsUnauthorized,
      502: opsUnreachable('QStash'),
      503: problemResponse(503, 'QStash is not configured on the gateway.', problemExample(503, 'QSTASH_URL and QSTASH_TOKEN are not set on the gateway.', { type: '/problems/qstash-not-configured' })),
    },
  }),
  createRoute({
    method: 'delete',
    path: '/_ops/dlq/{dlqId}',
    ...ops,
    summary: 'Drop a dead letter',
    request: { params: z.object({ dlqId: z.string() }) },
    responses: { 204: emptyResponse('Dropped.'), 401: opsUnauthorized, 404: problemResponse(404, 'No such dead letter.', 'No dead letter dlq_1.'), 502: opsUnreachable('QStash') },
  }),
  createRoute({
    method: 'post',
    path: '/_ops/sagas/{orderId}/{action}',
    ...ops,
    summary: 'Act on a STUCK saga',
    description:
      '`retry` runs its step now; `compensate` turns it back (only when its stuck forward step was refused for good); `resolve` closes it by hand the way it was going. Recorded in its timeline as `operator:<action>`, with the note.',
    request: {
      params: z.object({ orderId: z.string(), action: z.enum(['retry', 'compensate', 'resolve']) }),
      body: jsonBody(z.strictObject({ note: z.string().optional() }), { note: 'refunded by hand in the processor' }),
    },
    responses: {
      200: jsonResponse('The order after the action.', orderView.extend({ userId: z.string() }), { ...orderExample, userId: 'usr_1' }),
      400: problemResponse(400, 'Not an order id, an unknown action, or a bad note.', validationProblem([{ path: 'action', message: 'Invalid option' }])),
      401: opsUnauthorized,
      404: problemResponse(404, 'No saga for that order.', 'No saga for order ord_1.'),
      409: problemResponse(409, 'The action does not apply to the saga as it stands.', 'only a STUCK saga can be retried; this one is COMPLETED'),
      502: opsUnreachable('The orders service'),
    },
  }),
  createRoute({
    method: 'post',
    path: '/_ops/dlq/{dlqId}/redrive',
    ...ops,
    summary: 'Send one dead letter to its consumer again',
    description: "QStash's DLQ retry: a new message with retries from zero; the consumer's inbox applies it once.",
    request: { params: z.object({ dlqId: z.string() }) },
    responses: {
      200: jsonResponse('Redriven.', z.strictObject({ redriven: z.number().int(), messageIds: z.array(z.string()) }), { redriven: 1, messageIds: ['msg_2'] }),
      401: opsUnauthorized,
      404: problemResponse(404, 'No such dead letter.', 'No dead letter dlq_1.'),
      502: opsUnreachable('QStash'),
    },
  }),
  createRoute({
    method: 'post',
    path: '/_ops/dlq/redrive',
    ...ops,
    summary: 'Send every dead letter (or every one of a topic) again',
    request: { body: jsonBody(z.strictObject({ topic: z.string().optional() }), { topic: 'order-events' }) },
    responses: {
      200: jsonResponse('Redriven; `more` when a bounded run left some for another call.', z.strictObject({ redriven: z.number().int(), messageIds: z.array(z.string()), more: z.boolean() }), {
        redriven: 2,
        messageIds: ['msg_2', 'msg_3'],
        more: false,
      }),
      400: problemResponse(400, 'A body that is not `{topic?}`.', validationProblem([{ path: 'topic', message: 'Invalid input' }])),
      401: opsUnauthorized,
      502: opsUnreachable('QStash'),
    },
  }),
  createRoute({
    method: 'get',
    path: '/_ops/outbox',
    ...ops,
    summary: "Each service's outbox and its dead rows",
    description: 'Pending, sent and dead counts, and the rows parked after `OUTBOX_MAX_ATTEMPTS` failed publishes.',
    responses: {
      200: jsonResponse(
        'Per service; `{error}` for a service that could not be read.',
        z.record(
          z.string(),
          z.union([
            z.strictObject({
              pending: z.number().int(),
              sent: z.number().int(),
              dead: z.number().int(),
              oldestPendingAt: z.string().nullable(),
              nextAttemptAt: z.string().nullable(),
              deadRows: z.array(
                z.strictObject({
                  id: z.string(),
                  type: z.string(),
                  destination: z.string(),
                  attempts: z.number().int(),
                  lastError: z.string().nullable(),
                  createdAt: z.string(),
                  deadAt: z.string(),
                }),
              ),
            }),
            z.strictObject({ error: z.string() }),
          ]),
        ),
        { orders: { pending: 0, sent: 12, dead: 0, oldestPendingAt: null, nextAttemptAt: null, deadRows: [] } },
      ),
      401: opsUnauthorized,
    },
  }),
  createRoute({
    method: 'post',
    path: '/_ops/outbox/{service}/retry',
    ...ops,
    summary: 'Publish dead outbox rows again',
    request: { params: z.object({ service: z.string() }), body: jsonBody(z.strictObject({ id: z.string().optional() }), {}) },
    responses: {
      200: jsonResponse('How many rows went back to pending.', z.strictObject({ retried: z.number().int() }), { retried: 1 }),
      401: opsUnauthorized,
      404: problemResponse(404, 'No outbox by that name.', 'No outbox named "nope".'),
      502: opsUnreachable('The service'),
    },
  }),
  createRoute({
    method: 'post',
    path: '/_ops/crons/{service}',
    ...ops,
    summary: "Run a service's scheduled handler now",
    description: '`npm run dev` calls this on each worker\'s own cron schedule (wrangler dev fires no cron triggers); the work is idempotent. `gateway` runs the gateway\'s own: the health checks of every HTTP origin.',
    request: { params: z.object({ service: z.string() }), body: jsonBody(z.strictObject({ cron: z.string().optional() }), { cron: '* * * * *' }) },
    responses: {
      200: jsonResponse('It ran.', z.strictObject({ service: z.string(), cron: z.string(), scheduledTime: z.string(), outcome: z.string() }), {
        service: 'orders',
        cron: '* * * * *',
        scheduledTime: '2026-11-23T12:00:00.000Z',
        outcome: 'ok',
      }),
      401: opsUnauthorized,
      404: problemResponse(404, 'No service by that name.', 'No service named "nope".'),
      502: problemResponse(502, 'The handler threw.', 'The scheduled handler failed.'),
    },
  }),
  // The ledger's own description of its projection endpoints, as the operator reaches them here.
  ...projectionOperations('/_ops/projections').map((config) => ({
    ...config,
    ...ops,
    // The gateway calls with the ops scope, which the ledger always lets through: no 403 here.
    responses: { ...Object.fromEntries(Object.entries(config.responses).filter(([status]) => status !== '403')), 401: opsUnauthorized, 502: opsUnreachable('The ledger service') },
  })),
  ...releaseOperations,
  ...hookOperations,
  createRoute({
    method: 'get',
    path: '/openapi.json',
    tags: ['gateway'],
    summary: 'This document',
    security: [],
    responses: { 200: { description: 'OpenAPI 3.1.', content: jsonContent(z.looseObject({ openapi: z.string() }), { openapi: '3.1.0' }) } },
  }),
  createRoute({
    method: 'get',
    path: '/docs',
    tags: ['gateway'],
    summary: 'Swagger UI for this document',
    description: 'Its script and styles are served by the gateway too (`/docs/swagger-ui-dist/...`): no CDN.',
    security: [],
    responses: { 200: { description: 'The page.', content: { 'text/html': { schema: z.string() } } } },
  }),
];
