/**
 * The simulated card processor. It answers as processors' documented test cards do:
 * `4000000000000002` is declined with `card_declined`; every other card is approved.
 *
 * It decides when the card is tokenized (payment-methods.ts), and the token carries the decision
 * (payment_methods.verdict), so a charge by token needs no card number: the number is gone once
 * the tokenizing request ends. A real processor keeps the number behind the token and decides at
 * charge time; it would also be called with the charge's idempotency key, so a crash between its
 * answer and our record is resumed rather than charged twice.
 */
export const DECLINED_TEST_CARD = '4000000000000002';

export type Verdict = { verdict: 'approved'; declineCode: null } | { verdict: 'declined'; declineCode: 'card_declined' };

export type ProcessorOutcome = { status: 'succeeded' } | { status: 'declined'; declineCode: string };

/** The processor's decision on a card, taken once, when it is tokenized. */
export function judgeCard(card: string): Verdict {
  return card === DECLINED_TEST_CARD ? { verdict: 'declined', declineCode: 'card_declined' } : { verdict: 'approved', declineCode: null };
}

/** A charge's outcome, from the decision its token carries. */
export function authorizeCharge(method: { verdict: 'approved' | 'declined'; declineCode: string | null }): ProcessorOutcome {
  return method.verdict === 'approved' ? { status: 'succeeded' } : { status: 'declined', declineCode: method.declineCode ?? 'card_declined' };
}
