import { createRoute } from '@hono/zod-openapi';
import { z } from 'zod';
import { idempotencyKeyHeader } from '../../shared/http/idempotency-key';
import { header, jsonBody, jsonResponse, problemResponse, validationProblem } from '../../shared/openapi/describe';
import { chargeInput, listQuery, paymentIdParam, refundByChargeInput, refundByChargeKeyInput, tokenizeInput } from './payment-schemas';
import { describesExactly, type SameShape } from '../../shared/openapi/same-type';
import type { Charge, PaymentListItem, PaymentMethod, Refund } from './payment-schemas';

/**
 * The payments service's public routes as OpenAPI, at its own paths (`/payments`): the gateway
 * maps them to `/api/payments/...` and adds its edge policy (workers/gateway/openapi). Requests
 * are described by the schemas payment-routes.ts validates with.
 */

const paymentStatus = z.enum(['succeeded', 'declined', 'failed']);
const base = { id: z.string(), orderId: z.string(), amountCents: z.number().int(), currency: z.string(), status: paymentStatus, createdAt: z.iso.datetime() };

/** payment-schemas.ts `toPayment`: a charge or a refund, never any card data. */
const payment = z.discriminatedUnion('kind', [
  z.strictObject({ ...base, kind: z.literal('charge'), declineCode: z.string().optional() }),
  z.strictObject({ ...base, kind: z.literal('refund'), chargeId: z.string() }),
]);

const charge = { id: 'pay_1a2b3c', kind: 'charge' as const, orderId: 'ord_0123456789abcdef0123456789abcdef', amountCents: 25_800, currency: 'USD', status: 'succeeded' as const, createdAt: '2026-11-23T12:00:00.100Z' };
const refund = { ...charge, id: 'pay_4d5e6f', kind: 'refund' as const, chargeId: charge.id, createdAt: '2026-11-23T12:05:00.000Z' };

const listItem = z.strictObject({ id: z.string(), kind: z.enum(['charge', 'refund']), amountCents: z.number().int(), currency: z.string(), status: paymentStatus, createdAt: z.iso.datetime() });

/** payment-schemas.ts `toPaymentMethod`: the token, the card's last four digits and fingerprint. */
const paymentMethod = z.strictObject({ id: z.string(), card: z.strictObject({ last4: z.string(), fingerprint: z.string() }), createdAt: z.iso.datetime() });
const token = 'pm_5f0c1e2d3b4a59687766554433221100';

const adminOnly = {
  403: problemResponse(403, 'Writes are for the order saga and for operators (admin role).', 'The admin role is required.'),
};
const replayed = { 'Idempotent-Replayed': header.idempotentReplayed };

export const paymentsApi = [
  createRoute({
    method: 'get',
    path: '/payments',
    summary: "An order's payments",
    description: "Charges and refunds for one of the caller's orders (any order for an admin); another customer's order lists nothing.",
    request: { query: listQuery },
    responses: {
      200: jsonResponse('Its payments.', z.strictObject({ items: z.array(listItem) }), {
        items: [
          { id: charge.id, kind: 'charge', amountCents: 25_800, currency: 'USD', status: 'succeeded', createdAt: charge.createdAt },
          { id: refund.id, kind: 'refund', amountCents: 25_800, currency: 'USD', status: 'succeeded', createdAt: refund.createdAt },
        ],
      }),
      400: problemResponse(400, 'No orderId.', validationProblem([{ path: 'orderId', message: 'Invalid input: expected string, received undefined' }])),
    },
  }),
  createRoute({
    method: 'get',
    path: '/payments/{id}',
    summary: 'One payment',
    request: { params: paymentIdParam },
    responses: { 200: jsonResponse('The payment.', payment, charge), 404: problemResponse(404, "No such payment, or not the caller's.", 'No payment with id pay_0.') },
  }),
  createRoute({
    method: 'post',
    path: '/payments/charges',
    summary: 'Charge a card (saga, admin)',
    description:
      'The card is named by its token (`paymentMethod`, from `POST /payments/payment-methods`: what the order saga sends) or by its number (`card`, tokenized on the way in; only the token and the last four digits are kept). Neither: the approved test card `4242424242424242`. The processor\'s verdict was taken when the card was tokenized: `4000000000000002` is declined. Deduplicated by `Idempotency-Key`: the same key again is the first answer, replayed.',
    request: { headers: idempotencyKeyHeader, body: jsonBody(chargeInput, { orderId: charge.orderId, amountCents: 25_800, currency: 'USD', paymentMethod: token }) },
    responses: {
      201: jsonResponse('The charge (`status` says whether the card was approved).', payment, { ...charge, status: 'declined', declineCode: 'card_declined' }, replayed),
      400: problemResponse(400, 'No Idempotency-Key, or not a charge.', validationProblem([{ path: 'amountCents', message: 'Too small: expected number to be >0' }])),
      ...adminOnly,
      422: problemResponse(422, 'This Idempotency-Key was used for a different charge, or no such payment method.', 'This Idempotency-Key was already used with a different request; use a new key for a new request.'),
    },
  }),
  createRoute({
    method: 'post',
    path: '/payments/payment-methods',
    summary: 'Tokenize a card (saga, admin)',
    description:
      'Where a card number enters the suite and stops: placing an order hands the card here once (with the orders service\'s own service token) and the order, its saga, events and logs carry only the token `pm_…` and the last four digits. Payments keeps the token, a keyed fingerprint (the same card, the same fingerprint; the number cannot be recovered from it) and the last four digits, never the number; the simulated processor decides approve or decline now. Deduplicated by `Idempotency-Key`: the same key with the same card is the first token, replayed; with another card, 422. Without the `CARD_FINGERPRINT_KEY` secret nothing is tokenized (503).',
    request: { headers: idempotencyKeyHeader, body: jsonBody(tokenizeInput, { card: '4242424242424242' }) },
    responses: {
      201: jsonResponse('The token.', paymentMethod, { id: token, card: { last4: '4242', fingerprint: '6f1d2c3b4a5968778695a4b3c2d1e0f00112233445566778899aabbccddeeff0' }, createdAt: charge.createdAt }, replayed),
      400: problemResponse(400, 'No Idempotency-Key, or not a card number.', validationProblem([{ path: 'card', message: 'must be 12 to 19 digits' }])),
      ...adminOnly,
      422: problemResponse(422, 'This Idempotency-Key was used for another card.', 'This Idempotency-Key was already used with a different request; use a new key for a new request.'),
    },
  }),
  createRoute({
    method: 'post',
    path: '/payments/refunds',
    summary: 'Refund a charge (saga, admin)',
    description:
      '`{chargeId, amountCents?}` refunds that charge (all that is left without an amount). The saga\'s form `{orderId, chargeIdempotencyKey}` may instead answer 200 `{kind:"void"}` (no charge was made: the key is void) or `{kind:"no-refund"}` (declined, or nothing left).',
    // The handler validates with `refundInput`, a transform that picks one form by its keys (so
    // its errors name that form's fields): a transform has no JSON Schema, so the document shows
    // the union of the two forms it picks from. openapi.test.ts parses this example with
    // `refundInput` too, so the two cannot part.
    request: { headers: idempotencyKeyHeader, body: jsonBody(z.union([refundByChargeInput, refundByChargeKeyInput]), { chargeId: charge.id, amountCents: 1_000 }) },
    responses: {
      201: jsonResponse('The refund.', payment, { ...refund, amountCents: 1_000 }, replayed),
      200: jsonResponse(
        'Nothing refunded (the saga\'s form only).',
        z.strictObject({ kind: z.enum(['void', 'no-refund']), reason: z.string().optional(), orderId: z.string(), chargeIdempotencyKey: z.string(), chargeId: z.string().optional() }),
        { kind: 'void', orderId: charge.orderId, chargeIdempotencyKey: 'charge:ord_0123456789abcdef0123456789abcdef' },
      ),
      400: problemResponse(400, 'No Idempotency-Key, or not a refund.', validationProblem([{ path: 'chargeId', message: 'Invalid input: expected string, received undefined' }])),
      ...adminOnly,
      404: problemResponse(404, 'No such charge.', 'No charge with id pay_0.'),
      409: problemResponse(409, 'More than is left of the charge.', 'The refund is larger than what is left of the charge.'),
    },
  }),
];

// The answers' schemas are exactly the handlers' types (shared/openapi/same-type.ts).
describesExactly<SameShape<z.output<typeof payment>, Charge | Refund>>();
describesExactly<SameShape<z.output<typeof listItem>, PaymentListItem>>();
describesExactly<SameShape<z.output<typeof paymentMethod>, PaymentMethod>>();
