import { idempotencyKeyReused } from '../../shared/http/idempotency-key';
import type { PaymentRow } from './schema';

/** What a write came to: the row to answer with, and whether it is an earlier request's result. */
export interface Recorded {
  row: PaymentRow;
  replayed: boolean;
}

/** The earlier row holding this key answers this request only if it was the same request. */
export function replayOf(winner: PaymentRow, fingerprint: string): Recorded {
  if (winner.requestFingerprint !== fingerprint) throw idempotencyKeyReused();
  return { row: winner, replayed: true };
}
