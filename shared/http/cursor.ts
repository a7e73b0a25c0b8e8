import { decodeBase64Url, encodeBase64Url } from 'hono/utils/encode';
import { badRequest } from './problem';

/**
 * Opaque pagination cursors: base64url of a small JSON object. Clients pass them back untouched;
 * the shape can change without breaking them, and a tampered cursor is a clean 400.
 */
export function encodeCursor(value: Record<string, string | number>): string {
  // Unpadded, so the cursor needs no escaping in a query string.
  return encodeBase64Url(new TextEncoder().encode(JSON.stringify(value)).buffer).replace(/=+$/, '');
}

export function decodeCursor(cursor: string): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(new TextDecoder().decode(decodeBase64Url(cursor)));
    if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error('not an object');
    return value as Record<string, unknown>;
  } catch {
    throw invalidCursor();
  }
}

/** The 400 for a cursor this API did not issue: also for one that decodes but holds the wrong shape. */
export const invalidCursor = () => badRequest('The cursor is not one this API issued.', [{ path: 'cursor', message: 'Invalid cursor' }]);
