import { HttpError } from '../../shared/http/problem';
import type { PaymentRow } from './schema';

/** JSON with object keys sorted at every level, so equal bodies serialise identically. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value)
      .filter(([, v]) => v !== undefined) // as JSON.stringify drops them: absent and undefined are the same body
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/**
 * The fingerprint stored beside an idempotency key: SHA-256 (hex) of the operation name and the
 * canonical parsed body (defaults applied, so `{}` and the same body with its defaults spelled
 * out are one request). The operation is part of it, so a charge's key reused for a refund is a
 * different request. Callers must not pass secrets in `body`: the hash of a low-entropy value
 * such as a card number can be reversed by brute force.
 */
export async function requestFingerprint(operation: string, body: unknown): Promise<string> {
  const bytes = new TextEncoder().encode(`${operation}\n${canonicalJson(body)}`);
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', bytes));
  return Array.from(digest, (b) => b.toString(16).padStart(2, '0')).join('');
}

/** The header a replayed answer carries (the first result, sent again). */
export const REPLAYED_HEADER = 'Idempotent-Replayed';

/** The same key with a different request: refusing is the only safe answer (never a second effect). */
export const idempotencyKeyReused = () =>
  new HttpError(422, {
    type: 'idempotency-key-reused',
    detail: 'This Idempotency-Key was already used with a different request; use a new key for a new request.',
  });

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
