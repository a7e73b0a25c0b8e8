import { requestFingerprint } from '../../shared/http/idempotency-key';
import { HttpError, notFound, serviceUnavailable } from '../../shared/http/problem';
import { replayOf, type Recorded } from './idempotency';
import { paymentEvent } from './payment-events';
import type { PaymentRepository } from './payment-repository';
import type { RefundByChargeInput, RefundByChargeKeyInput } from './payment-schemas';
import type { NewPaymentRow, PaymentRow } from './schema';

const notRefundable = (detail: string, type: string) => new HttpError(409, { type, detail });

const exceedsCharge = (charge: PaymentRow, remaining: number, asked: number) =>
  notRefundable(
    remaining === 0
      ? `Charge ${charge.id} is already fully refunded.`
      : `Charge ${charge.id} has ${remaining} ${charge.currency} minor units left to refund, less than the ${asked} asked for.`,
    'refund-exceeds-charge',
  );

/** How many times "refund the rest" re-reads the rest when another refund changed it meanwhile. */
const REST_ATTEMPTS = 5;

/**
 * Refunds `amountCents` of a succeeded charge (or, when undefined, all it has left) once per
 * idempotency key, with its payment.refunded event in the same batch. The amount is proposed
 * from what the charge has left as read; the database decides (refund_totals' CHECK), so a
 * concurrent refund can make this one fail but never both pass. 'nothing-left' only when
 * asked for the rest and there is none.
 */
async function refundCharge(
  repository: PaymentRepository,
  key: string,
  charge: PaymentRow,
  amountCents: number | undefined,
  fingerprint: string,
  traceparent: string | undefined,
): Promise<Recorded | 'nothing-left'> {
  for (let attempt = 0; attempt < REST_ATTEMPTS; attempt++) {
    const remaining = await repository.remainingCents(charge);
    const amount = amountCents ?? remaining;
    if (amountCents === undefined && remaining === 0) return 'nothing-left';
    if (amount > remaining) throw exceedsCharge(charge, remaining, amount);
    const row: NewPaymentRow & { kind: 'refund' } = {
      id: `ref_${crypto.randomUUID().replace(/-/g, '')}`,
      kind: 'refund',
      orderId: charge.orderId,
      chargeId: charge.id,
      customerId: charge.customerId,
      amountCents: amount,
      currency: charge.currency,
      status: 'succeeded',
      idempotencyKey: key,
      requestFingerprint: fingerprint,
    };
    const outcome = await repository.insertRefund(row, charge, paymentEvent(row, traceparent));
    if (outcome === 'recorded') {
      const inserted = await repository.get(row.id);
      if (!inserted) throw new Error(`refund ${row.id} missing after its batch committed`);
      return { row: inserted, replayed: false };
    }
    // A concurrent duplicate may have won with this very key (its refund can also be what made
    // this one exceed the charge): then it is the answer.
    const winner = await repository.byIdempotencyKey(key);
    if (winner) return replayOf(winner, fingerprint);
    if (outcome === 'key-taken') throw new Error(`idempotency key conflict without a row for ${key}`);
    // Exceeds: another refund took some of the rest after it was read. A fixed amount is refused;
    // "the rest" is read again.
    if (amountCents !== undefined) throw exceedsCharge(charge, await repository.remainingCents(charge), amountCents);
  }
  throw serviceUnavailable(`Charge ${charge.id} is being refunded concurrently; try again with the same Idempotency-Key.`, { 'retry-after': '1' });
}

/**
 * Refunds a charge named by its id, once per idempotency key, never beyond what the charge has
 * left: 201 the refund (or the earlier one, replayed); 404 no such charge; 409
 * `charge-not-refundable` (declined) or `refund-exceeds-charge`; 422 the key reused.
 */
export async function recordRefund(
  repository: PaymentRepository,
  key: string,
  input: RefundByChargeInput,
  context: { traceparent?: string } = {},
): Promise<Recorded> {
  const fingerprint = await requestFingerprint('refund', input);
  const earlier = await repository.byIdempotencyKey(key);
  if (earlier) return replayOf(earlier, fingerprint);

  // A charge's kind, status, amount and currency never change: reading them decides nothing
  // that a concurrent write could make wrong.
  const charge = await repository.get(input.chargeId);
  if (!charge || charge.kind !== 'charge') throw notFound(`No charge with id ${input.chargeId}.`);
  if (charge.status !== 'succeeded') {
    throw notRefundable(`Charge ${charge.id} is ${charge.status}; only a succeeded charge can be refunded.`, 'charge-not-refundable');
  }
  const result = await refundCharge(repository, key, charge, input.amountCents, fingerprint, context.traceparent);
  if (result === 'nothing-left') throw exceedsCharge(charge, 0, 0);
  return result;
}

/** What a refund by charge key came to (payment-routes.ts answers each). */
export type RefundByKeyResult =
  /** The charge was refunded (all it had left): 201 with the refund, as a refund by id. */
  | { kind: 'refund'; recorded: Recorded }
  /** No charge was made with the key: it is now void, so one arriving later is refused. 200. */
  | { kind: 'void'; orderId: string; chargeIdempotencyKey: string }
  /** A charge exists but there is nothing to give back. 200. */
  | { kind: 'no-refund'; reason: 'charge-declined' | 'fully-refunded'; orderId: string; chargeIdempotencyKey: string; chargeId: string };

/**
 * The order saga's compensation for its charge step, which may not know whether its charge was
 * ever made (a timeout, a crash): it names the charge by the idempotency key it charged with.
 * - no charge with that key: the key is voided, atomically with the check that no charge holds
 *   it (PaymentRepository.voidChargeKey), so a late charge with it gets 409 charge-voided;
 * - a declined charge: nothing to refund;
 * - a succeeded charge: refunded in full (what it has left), once per this call's own key.
 * Every outcome is a success (2xx): a compensation that can be done has been. Asked again, the
 * same answer: a refund is replayed by its key, a void and a decline never change.
 */
export async function refundByChargeKey(
  repository: PaymentRepository,
  key: string,
  input: RefundByChargeKeyInput,
  context: { traceparent?: string } = {},
): Promise<RefundByKeyResult> {
  const fingerprint = await requestFingerprint('refund', input);
  const earlier = await repository.byIdempotencyKey(key);
  if (earlier) return { kind: 'refund', recorded: replayOf(earlier, fingerprint) };

  const { orderId, chargeIdempotencyKey } = input;
  const voided = { kind: 'void', orderId, chargeIdempotencyKey } as const;
  if (await repository.voidChargeKey(chargeIdempotencyKey, orderId)) return voided;

  // The key is held: by a void (this one's earlier answer) or by a charge.
  const holder = await repository.chargeKey(chargeIdempotencyKey);
  const charge = await repository.byIdempotencyKey(chargeIdempotencyKey);
  const ownerOrder = holder?.orderId ?? charge?.orderId;
  if (ownerOrder !== undefined && ownerOrder !== orderId) {
    throw new HttpError(422, {
      type: 'charge-order-mismatch',
      detail: `The charge with Idempotency-Key ${chargeIdempotencyKey} belongs to another order than ${orderId}.`,
    });
  }
  if (holder?.kind === 'void') return voided;
  if (!charge || charge.kind !== 'charge') throw notFound(`No charge with Idempotency-Key ${chargeIdempotencyKey}.`);
  const noRefund = (reason: 'charge-declined' | 'fully-refunded') =>
    ({ kind: 'no-refund', reason, orderId, chargeIdempotencyKey, chargeId: charge.id }) as const;
  if (charge.status !== 'succeeded') return noRefund('charge-declined');

  const result = await refundCharge(repository, key, charge, undefined, fingerprint, context.traceparent);
  return result === 'nothing-left' ? noRefund('fully-refunded') : { kind: 'refund', recorded: result };
}
