import { HttpError, notFound } from '../../shared/http/problem';
import { requestFingerprint } from '../../shared/http/idempotency-key';
import { replayOf, type Recorded } from './idempotency';
import type { PaymentRepository } from './payment-repository';
import type { RefundInput } from './payment-schemas';

const notRefundable = (detail: string, type: string) => new HttpError(409, { type, detail });

/**
 * Refunds once per idempotency key, never beyond what the charge has left. The insert itself
 * checks the charge (PaymentRepository.insertRefund: one atomic statement); only when it wrote
 * nothing does this look around, to replay an earlier result for the key or explain the refusal.
 * The explanation cannot contradict the refusal: a charge's status never changes and what is
 * left to refund only shrinks.
 */
export async function recordRefund(repository: PaymentRepository, key: string, input: RefundInput): Promise<Recorded> {
  const fingerprint = await requestFingerprint('refund', input);
  const inserted = await repository.insertRefund({
    id: `ref_${crypto.randomUUID().replace(/-/g, '')}`,
    chargeId: input.chargeId,
    amountCents: input.amountCents,
    idempotencyKey: key,
    requestFingerprint: fingerprint,
  });
  if (inserted) return { row: inserted, replayed: false };

  const winner = await repository.byIdempotencyKey(key);
  if (winner) return replayOf(winner, fingerprint);

  const charge = await repository.get(input.chargeId);
  if (!charge || charge.kind !== 'charge') throw notFound(`No charge with id ${input.chargeId}.`);
  if (charge.status !== 'succeeded') {
    throw notRefundable(`Charge ${charge.id} is ${charge.status}; only a succeeded charge can be refunded.`, 'charge-not-refundable');
  }
  const remaining = await repository.remainingCents(charge);
  throw notRefundable(
    remaining === 0
      ? `Charge ${charge.id} is already fully refunded.`
      : `Charge ${charge.id} has ${remaining} ${charge.currency} minor units left to refund, less than the ${input.amountCents} asked for.`,
    'refund-exceeds-charge',
  );
}
