import { requestFingerprint, idempotencyKeyReused } from '../../shared/http/idempotency-key';
import { cardFingerprint } from './card-fingerprint';
import type { PaymentsBindings } from './env';
import type { PaymentRepository } from './payment-repository';
import type { TokenizeInput } from './payment-schemas';
import { judgeCard } from './processor';
import type { NewPaymentMethodRow, PaymentMethodRow } from './schema';

/** A tokenization's answer: the token, and whether it is an earlier request's. */
export interface TokenizedCard {
  row: PaymentMethodRow;
  replayed: boolean;
}

const newToken = () => `pm_${crypto.randomUUID().replace(/-/g, '')}`;

/**
 * A new token for a card: its fingerprint, last four digits and the processor's verdict. The
 * number goes no further than this function's caller.
 */
export function newPaymentMethod(card: string, fingerprint: string, request?: { idempotencyKey: string; requestFingerprint: string }): NewPaymentMethodRow & { id: string } {
  const { verdict, declineCode } = judgeCard(card);
  return {
    id: newToken(),
    cardFingerprint: fingerprint,
    cardLast4: card.slice(-4),
    verdict,
    declineCode,
    idempotencyKey: request?.idempotencyKey ?? null,
    requestFingerprint: request?.requestFingerprint ?? null,
  };
}

/**
 * Tokenizes a card once per idempotency key (docs/architecture.md, decision 3): the same key with the same
 * card answers the first token; with another card, 422. The request is recognised by the card's
 * keyed fingerprint, never by a plain hash of the number. Concurrent duplicates race on the key's
 * UNIQUE index: one row is written, the others read it back.
 */
export async function tokenizeCard(repository: PaymentRepository, env: Pick<PaymentsBindings, 'CARD_FINGERPRINT_KEY'>, key: string, input: TokenizeInput): Promise<TokenizedCard> {
  const fingerprint = await cardFingerprint(env, input.card);
  const request = await requestFingerprint('tokenize', { card: fingerprint });
  const replay = (winner: PaymentMethodRow): TokenizedCard => {
    if (winner.requestFingerprint !== request) throw idempotencyKeyReused();
    return { row: winner, replayed: true };
  };
  const earlier = await repository.paymentMethodByKey(key);
  if (earlier) return replay(earlier);
  const row = newPaymentMethod(input.card, fingerprint, { idempotencyKey: key, requestFingerprint: request });
  if ((await repository.insertPaymentMethod(row)) === 'recorded') {
    const inserted = await repository.paymentMethod(row.id);
    if (!inserted) throw new Error(`payment method ${row.id} missing after its insert`);
    return { row: inserted, replayed: false };
  }
  const winner = await repository.paymentMethodByKey(key);
  if (!winner) throw new Error(`idempotency key conflict without a payment method for ${key}`);
  return replay(winner);
}
