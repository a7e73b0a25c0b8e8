import { cardForFingerprint, requestFingerprint } from '../../shared/http/idempotency-key';
import { HttpError } from '../../shared/http/problem';
import { replayOf, type Recorded } from './idempotency';
import { paymentEvent } from './payment-events';
import type { PaymentRepository } from './payment-repository';
import type { ChargeInput } from './payment-schemas';
import { authorizeCharge } from './processor';
import type { NewPaymentRow } from './schema';

/** The fingerprint sees the card only as cardForFingerprint shows it, never the number. */
const fingerprintOf = (input: ChargeInput) => requestFingerprint('charge', { ...input, card: cardForFingerprint(input.card) });

/** A charge whose key the order saga voided: its order was cancelled before this charge arrived. */
const chargeVoided = (key: string) =>
  new HttpError(409, {
    type: 'charge-voided',
    detail: `The charge with Idempotency-Key ${key} was voided (its order was cancelled before it arrived); nothing was charged.`,
  });

/**
 * Charges once per idempotency key. The processor decision comes first (it is a pure
 * simulation), then one batch that records the charge and its event (payment.charged or
 * payment.declined), or writes nothing because the key is taken: by an earlier request (answered
 * with its row, or 422 if it was another request) or by a void (409 charge-voided).
 */
export async function recordCharge(
  repository: PaymentRepository,
  key: string,
  input: ChargeInput,
  context: { traceparent?: string } = {},
): Promise<Recorded> {
  const fingerprint = await fingerprintOf(input);
  const outcome = authorizeCharge(input.card);
  const row: NewPaymentRow & { kind: 'charge' } = {
    id: `pay_${crypto.randomUUID().replace(/-/g, '')}`,
    kind: 'charge',
    orderId: input.orderId,
    amountCents: input.amountCents,
    currency: input.currency,
    status: outcome.status,
    declineCode: outcome.status === 'declined' ? outcome.declineCode : null,
    cardLast4: input.card.slice(-4),
    customerId: input.customerId ?? null,
    idempotencyKey: key,
    requestFingerprint: fingerprint,
  };
  if ((await repository.insertCharge(row, paymentEvent(row, context.traceparent))) === 'recorded') {
    const inserted = await repository.get(row.id);
    if (!inserted) throw new Error(`charge ${row.id} missing after its batch committed`);
    return { row: inserted, replayed: false };
  }
  if ((await repository.chargeKey(key))?.kind === 'void') throw chargeVoided(key);
  const winner = await repository.byIdempotencyKey(key);
  // The batch conflicted on this key and rows are never deleted, so the winner exists.
  if (!winner) throw new Error(`idempotency key conflict without a row for ${key}`);
  return replayOf(winner, fingerprint);
}
