/**
 * The gateway's own first-party cookie, `stratus_uid`: a random id that keeps an anonymous
 * visitor on one canary version (route-versions.ts) and one side of each feature flag (flags.ts).
 * It identifies a browser, not a person, grants nothing, and never leaves the gateway (no cookie
 * is forwarded to a service).
 */
export const VISITOR_COOKIE = 'stratus_uid';

/**
 * Whether a request says who is calling, so an answer to it may be for that caller only: an
 * `Authorization` header, or any cookie but the gateway's visitor cookie. A browser that carries
 * only `stratus_uid` is as anonymous as one without it, and its answers are as shareable (by the
 * fallbacks, by a response cache: the canary version, which the cookie picks, is keyed apart).
 */
export function identifiesCaller(request: Request): boolean {
  if (request.headers.has('authorization')) return true;
  const cookie = request.headers.get('cookie');
  if (cookie === null) return false;
  return cookie
    .split(';')
    .map((pair) => pair.split('=', 1)[0]!.trim())
    .some((name) => name !== '' && name !== VISITOR_COOKIE);
}
