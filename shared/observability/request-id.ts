/**
 * Request ids: the caller's own when it is safe to echo and log, otherwise a fresh one.
 * The pattern is docs/api.md's; anything else (too long, spaces, quotes) is replaced, never trimmed,
 * so a log line can always be found by the id the client saw.
 */
export const REQUEST_ID_HEADER = 'x-request-id';
export const REQUEST_ID_PATTERN = /^[A-Za-z0-9._-]{1,128}$/;

export function acceptOrCreateRequestId(
  incoming: string | null | undefined,
  create: () => string = () => crypto.randomUUID(),
): string {
  return incoming && REQUEST_ID_PATTERN.test(incoming) ? incoming : create();
}
