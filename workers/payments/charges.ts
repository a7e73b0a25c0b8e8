import type { PaymentRepository } from './payment-repository';
import type { ChargeInput } from './payment-schemas';
import { authorizeCharge } from './processor';
import { requestFingerprint } from '../../shared/http/idempotency-key';
import { replayOf, type Recorded } from './idempotency';

/**
 * The fingerprint sees the card only as its last four digits and length: a SHA-256 of a full
 * card number is reversible by brute force (few unknown digits), so hashing it would store the
 * number in all but name. The cost: the same key with another card that shares those digits is
 * taken for a retry instead of refused, which still charges nothing twice.
 */
const fingerprintOf = (input: ChargeInput) =>
  requestFingerprint('charge', { ...input, card: `${input.card.length}:${input.card.slice(-4)}` });

/**
 * Charges once per idempotency key. The processor decision comes first (it is a pure
 * simulation), then one insert that either records it or loses to an earlier request with the
 * same key; the loser is answered with the winner's row, or 422 if the winner was another request.
 */
export async function recordCharge(repository: PaymentRepository, key: string, input: ChargeInput): Promise<Recorded> {
  const fingerprint = await fingerprintOf(input);
  const outcome = authorizeCharge(input.card);
  const inserted = await repository.insertCharge({
    id: `pay_${crypto.randomUUID().replace(/-/g, '')}`,
    kind: 'charge',
    orderId: input.orderId,
    amountCents: input.amountCents,
    currency: input.currency,
    status: outcome.status,
    declineCode: outcome.status === 'declined' ? outcome.declineCode : null,
    cardLast4: input.card.slice(-4),
    idempotencyKey: key,
    requestFingerprint: fingerprint,
  });
  if (inserted) return { row: inserted, replayed: false };
  const winner = await repository.byIdempotencyKey(key);
  // The insert conflicted on this key and rows are never deleted, so the winner exists.
  if (!winner) throw new Error(`idempotency key conflict without a row for ${key}`);
  return replayOf(winner, fingerprint);
}
