/**
 * One-time tickets for `GET /orders/:id/live?ticket=` (clients that cannot set `Authorization` on
 * a WebSocket, such as browsers): 32 random bytes, base64url, so unguessable and safe in a query
 * string as they are. Kept by the order's live object (order-live.ts) until used or expired.
 */
export const LIVE_TICKET_PATTERN = /^[A-Za-z0-9_-]{43}$/;

export function newTicket(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  return btoa(String.fromCharCode(...bytes)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}
