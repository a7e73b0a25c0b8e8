import { createRoute } from '@hono/zod-openapi';
import { z } from 'zod';
import { idempotencyKeyHeader } from '../../shared/http/idempotency-key';
import { header, jsonBody, jsonResponse, problemExample, problemResponse, validationProblem } from '../../shared/openapi/describe';
import { listQuery, orderIdParam, placeOrderInput } from './order-schemas';
import { LIVE_TICKET_PATTERN } from './live-ticket';
import { describesExactly, type SameShape } from '../../shared/openapi/same-type';
import type { toSummary } from './order-schemas';
import type { TimelineStep } from './timeline';

/**
 * The orders service's public routes as OpenAPI, at its own paths (`/orders`): the gateway maps
 * them to `/api/orders/...` and adds its edge policy (workers/gateway/openapi). Requests are
 * described by the schemas order-routes.ts validates with.
 */

const orderStatus = z.enum(['PENDING', 'COMPENSATING', 'STUCK', 'COMPLETED', 'CANCELLED']);

/** One step of the saga's timeline (timeline.ts `TimelineStep`). */
const sagaStep = z.strictObject({
  name: z.string(),
  status: z.string(),
  attempts: z.number().int().min(0),
  startedAt: z.iso.datetime().nullable(),
  finishedAt: z.iso.datetime().nullable(),
  error: z.string().optional(),
  note: z.string().optional().describe("An operator's note, on `operator:<action>` entries."),
});

/** GET /orders/:id (order-routes.ts `toOrder`). */
export const orderView = z.strictObject({
  orderId: z.string(),
  status: orderStatus,
  totalCents: z.number().int(),
  currency: z.string(),
  items: z.array(z.strictObject({ productId: z.string(), quantity: z.number().int(), unitPriceCents: z.number().int() })),
  saga: z.strictObject({ steps: z.array(sagaStep) }),
  reason: z.string().optional().describe('Why it was cancelled.'),
  createdAt: z.iso.datetime(),
  updatedAt: z.iso.datetime(),
});

const ORDER_ID = 'ord_0123456789abcdef0123456789abcdef';

export const orderExample: z.input<typeof orderView> = {
  orderId: ORDER_ID,
  status: 'COMPLETED',
  totalCents: 25_800,
  currency: 'USD',
  items: [{ productId: 'prod_7f3c2a9b1e4d4c0a8b6e5f4d3c2b1a09', quantity: 2, unitPriceCents: 12_900 }],
  saga: {
    steps: [
      { name: 'reserve', status: 'succeeded', attempts: 1, startedAt: '2026-11-23T12:00:00.010Z', finishedAt: '2026-11-23T12:00:00.050Z' },
      { name: 'charge', status: 'succeeded', attempts: 1, startedAt: '2026-11-23T12:00:00.050Z', finishedAt: '2026-11-23T12:00:00.120Z' },
      { name: 'confirm', status: 'succeeded', attempts: 1, startedAt: '2026-11-23T12:00:00.120Z', finishedAt: '2026-11-23T12:00:00.150Z' },
    ],
  },
  createdAt: '2026-11-23T12:00:00.000Z',
  updatedAt: '2026-11-23T12:00:00.150Z',
};

/** GET /orders (order-routes.ts `toSummary`). */
const orderSummary = z.strictObject({
  orderId: z.string(),
  status: orderStatus,
  totalCents: z.number().int(),
  currency: z.string(),
  itemCount: z.number().int(),
  placedAt: z.iso.datetime(),
  settledAt: z.iso.datetime().nullable(),
});

const placed = z.strictObject({ orderId: z.string(), status: orderStatus });

export const ordersApi = [
  createRoute({
    method: 'post',
    path: '/orders',
    summary: 'Place an order',
    description:
      'Answered at once (202); the saga (reserve stock, charge, commit; compensated on failure) runs after. The same `Idempotency-Key` again is the same order (200, `Idempotent-Replayed: true`), never a second one. Test cards: `4242424242424242` (the default) is approved, `4000000000000002` declined.',
    request: {
      headers: idempotencyKeyHeader,
      body: jsonBody(placeOrderInput, { items: [{ productId: 'prod_7f3c2a9b1e4d4c0a8b6e5f4d3c2b1a09', quantity: 2 }], paymentMethod: { card: '4242424242424242' } }),
    },
    responses: {
      202: jsonResponse('Placed: the saga runs.', placed, { orderId: ORDER_ID, status: 'PENDING' }, { Location: header.location }),
      200: jsonResponse('The order this key placed before, replayed.', placed, { orderId: ORDER_ID, status: 'COMPLETED' }, { Location: header.location, 'Idempotent-Replayed': header.idempotentReplayed }),
      400: problemResponse(400, 'No Idempotency-Key, or a body that is not an order.', validationProblem([{ path: 'idempotency-key', message: 'the Idempotency-Key header is required' }])),
      422: problemResponse(
        422,
        'An unknown product or mixed currencies, this Idempotency-Key already placed a different order, or (with the `new-checkout` flag on for the caller) a total over 5,000.00 (`/problems/order-over-limit`).',
        problemExample(422, 'This Idempotency-Key was already used with a different request; use a new key for a new request.', { type: '/problems/idempotency-key-reused' }),
      ),
    },
  }),
  createRoute({
    method: 'get',
    path: '/orders',
    summary: "The caller's orders",
    description: 'Newest first, from the read model (an order appears once its events arrive).',
    request: { query: listQuery },
    responses: {
      200: jsonResponse('A page of orders.', z.strictObject({ items: z.array(orderSummary), nextCursor: z.string().nullable() }), {
        items: [{ orderId: ORDER_ID, status: 'COMPLETED', totalCents: 25_800, currency: 'USD', itemCount: 1, placedAt: '2026-11-23T12:00:00.000Z', settledAt: '2026-11-23T12:00:00.150Z' }],
        nextCursor: null,
      }),
    },
  }),
  createRoute({
    method: 'get',
    path: '/orders/{id}',
    summary: 'One order with its saga timeline',
    description: '`status` ends in `COMPLETED` or `CANCELLED`. Only its owner (or an admin) may read it: anyone else gets the same 404 as for no order.',
    request: { params: orderIdParam },
    responses: {
      200: jsonResponse('The order.', orderView, orderExample),
      400: problemResponse(400, 'Not an order id.', validationProblem([{ path: 'id', message: 'not an order id' }])),
      404: problemResponse(404, 'No such order, or not the caller\'s.', `No order with id ${ORDER_ID}.`),
    },
  }),
  createRoute({
    method: 'get',
    path: '/orders/{id}/live',
    summary: "An order's progress, live (WebSocket)",
    description: [
      'A WebSocket (`Upgrade: websocket`): JSON messages, the order\'s current state first `{type:"state", orderId, status, steps:[{name, status, attempts}]}`, then one per saga step as it ends `{type:"step", name, status, attempts}` and one per status change `{type:"status", status}`; the server closes (1000) after `COMPLETED` or `CANCELLED`.',
      'The access token in `Authorization`, or for clients that cannot set headers (browsers) a one-time `?ticket=` from `POST /api/orders/{id}/live/ticket`; either is checked before the upgrade. Only the owner (or an admin) may watch: anyone else gets 404.',
      'Limits: 5 sockets per user per order (429), a message from the client over 1 KiB closes with 1009, a socket with no message either way for 5 minutes closes with 4408 (send `ping` to stay: the answer is `pong`).',
    ].join('\n\n'),
    request: {
      params: orderIdParam,
      query: z.object({ ticket: z.string().regex(LIVE_TICKET_PATTERN).optional().describe('A one-time ticket, instead of the access token.') }),
    },
    responses: {
      101: { description: 'Switching protocols: the socket is open.' },
      401: problemResponse(401, 'No access token and no ticket, or a ticket unknown, used or expired.', 'The ticket is unknown, used or expired: ask POST /api/orders/:id/live/ticket for another.'),
      404: problemResponse(404, "No such order, or not the caller's.", `No order with id ${ORDER_ID}.`),
      426: problemResponse(426, 'Not a WebSocket upgrade.', 'This is a WebSocket: send Upgrade: websocket.'),
      429: problemResponse(429, 'Too many sockets of this user on this order.', 'Too many open sockets on this order for this user; close one first.'),
    },
  }),
  createRoute({
    method: 'post',
    path: '/orders/{id}/live/ticket',
    summary: 'A one-time ticket to watch an order live',
    description: 'For clients that cannot set `Authorization` on a WebSocket (browsers): `GET /api/orders/{id}/live?ticket=` opens one socket with it, once, within `expiresIn` seconds.',
    request: { params: orderIdParam },
    responses: {
      201: jsonResponse('The ticket.', z.strictObject({ ticket: z.string(), expiresIn: z.number().int() }), { ticket: 'q0d3bqJ6a5kq3PZ4vT1QeX2Hn8sYw7uLm9cR4fG6jKo', expiresIn: 30 }),
      404: problemResponse(404, "No such order, or not the caller's.", `No order with id ${ORDER_ID}.`),
    },
  }),
];

// The answers' schemas are exactly the handlers' types (shared/openapi/same-type.ts).
describesExactly<SameShape<z.output<typeof sagaStep>, TimelineStep>>();
// The read model keeps `status` as text (it is written only from order events, with these
// statuses): the document names the statuses, so that one field is compared by the real answers.
describesExactly<SameShape<Omit<z.output<typeof orderSummary>, 'status'>, Omit<ReturnType<typeof toSummary>, 'status'>>>();
