import { z } from 'zod';
import { HttpError } from './problem';

/**
 * Idempotency keys (docs/architecture.md, decision 3): every effect across a service boundary carries one,
 * and a duplicate is answered with the first result, never applied twice. What a service stores
 * beside a key is a fingerprint of the request, so a replay can be told from a key reused for
 * something else.
 */

/**
 * `Idempotency-Key`: 1–255 visible ASCII characters (no spaces or controls), so a key is
 * unambiguous in logs and headers. Hono's header validator sees names lower-cased.
 */
export const idempotencyKeyHeader = z.object({
  'idempotency-key': z
    .string({ error: 'the Idempotency-Key header is required' })
    .regex(/^[\x21-\x7E]{1,255}$/, 'must be 1 to 255 visible ASCII characters'),
});

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

/**
 * A card number as a fingerprint may see it: its length and last four digits. A SHA-256 of the
 * full number is reversible by brute force (few unknown digits), so hashing it would store the
 * number in all but name. The cost: the same key with another card that shares those digits is
 * taken for a retry instead of refused, which still charges nothing twice.
 */
export const cardForFingerprint = (card: string): string => `${card.length}:${card.slice(-4)}`;

/** The header a replayed answer carries (the first result, sent again). */
export const REPLAYED_HEADER = 'Idempotent-Replayed';

/** The same key with a different request: refusing is the only safe answer (never a second effect). */
export const idempotencyKeyReused = (detail = 'This Idempotency-Key was already used with a different request; use a new key for a new request.') =>
  new HttpError(422, { type: 'idempotency-key-reused', detail });
