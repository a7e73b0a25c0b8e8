/**
 * The simulated card processor. It answers as processors' documented test cards do:
 * `4000000000000002` is declined with `card_declined`; every other card is approved.
 *
 * It is a pure function so the whole charge outcome is known before anything is written: the
 * charge row is then inserted once, idempotently. A real processor call would instead reserve
 * the idempotency key first (a pending row), pass the same key to the processor, and record the
 * outcome afterwards, so a crash in between is resumed rather than charged twice.
 */
export const DECLINED_TEST_CARD = '4000000000000002';

export type ProcessorOutcome = { status: 'succeeded' } | { status: 'declined'; declineCode: 'card_declined' };

export function authorizeCharge(card: string): ProcessorOutcome {
  return card === DECLINED_TEST_CARD ? { status: 'declined', declineCode: 'card_declined' } : { status: 'succeeded' };
}
