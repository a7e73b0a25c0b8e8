import { cardForFingerprint, requestFingerprint } from '../../shared/http/idempotency-key';
import { HttpError } from '../../shared/http/problem';
import { cardFingerprint } from './card-fingerprint';
import type { PaymentsBindings } from './env';
import { replayOf, type Recorded } from './idempotency';
import { paymentEvent } from './payment-events';
import { newPaymentMethod } from './payment-methods';
import type { PaymentRepository } from './payment-repository';
import { DEFAULT_CARD, type ChargeInput } from './payment-schemas';
import { authorizeCharge } from './processor';
import type { NewPaymentMethodRow, NewPaymentRow, PaymentMethodRow } from './schema';

/**
 * The request's fingerprint: a token as it is; a card only as cardForFingerprint shows it, never
 * the number (the same spelling as before tokens existed, so a charge made then replays now).
 */
const fingerprintOf = (input: ChargeInput, card: string | undefined) =>
  requestFingerprint('charge', { ...input, card: card === undefined ? undefined : cardForFingerprint(card) });

/** A charge whose key the order saga voided: its order was cancelled before this charge arrived. */
const chargeVoided = (key: string) =>
  new HttpError(409, {
    type: 'charge-voided',
    detail: `The charge with Idempotency-Key ${key} was voided (its order was cancelled before it arrived); nothing was charged.`,
  });

const unknownPaymentMethod = (id: string) =>
  new HttpError(422, { type: 'unknown-payment-method', detail: `No payment method ${id}: tokenize the card first (POST /payments/payment-methods).` });

/**
 * Charges once per idempotency key. The card is a token (its processor verdict decides) or a
 * number, tokenized here in the same batch as the charge. Then one batch records the charge and
 * its event (payment.charged or payment.declined), or writes nothing because the key is taken: by
 * an earlier request (answered with its row, or 422 if it was another request) or by a void (409
 * charge-voided).
 */
export async function recordCharge(
  repository: PaymentRepository,
  env: Pick<PaymentsBindings, 'CARD_FINGERPRINT_KEY'>,
  key: string,
  input: ChargeInput,
  context: { traceparent?: string } = {},
): Promise<Recorded> {
  const card = input.paymentMethod === undefined ? (input.card ?? DEFAULT_CARD) : undefined;
  const fingerprint = await fingerprintOf(input, card);
  let method: PaymentMethodRow | NewPaymentMethodRow | undefined;
  let newMethod: NewPaymentMethodRow | undefined;
  if (card === undefined) {
    method = await repository.paymentMethod(input.paymentMethod ?? '');
    if (!method) {
      // A token gone since (retention) cannot stop a replay of the charge made with it.
      const earlier = await repository.byIdempotencyKey(key);
      if (earlier) return replayOf(earlier, fingerprint);
      throw unknownPaymentMethod(input.paymentMethod ?? '');
    }
  } else {
    method = newMethod = newPaymentMethod(card, await cardFingerprint(env, card));
  }
  const outcome = authorizeCharge({ verdict: method.verdict, declineCode: method.declineCode ?? null });
  const { card: _number, paymentMethod: _token, ...charge } = input;
  const row: NewPaymentRow & { kind: 'charge' } = {
    id: `pay_${crypto.randomUUID().replace(/-/g, '')}`,
    kind: 'charge',
    orderId: charge.orderId,
    amountCents: charge.amountCents,
    currency: charge.currency,
    status: outcome.status,
    declineCode: outcome.status === 'declined' ? outcome.declineCode : null,
    cardLast4: method.cardLast4,
    paymentMethodId: method.id,
    customerId: charge.customerId ?? null,
    idempotencyKey: key,
    requestFingerprint: fingerprint,
  };
  if ((await repository.insertCharge(row, paymentEvent(row, context.traceparent), newMethod)) === 'recorded') {
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
