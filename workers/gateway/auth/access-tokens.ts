import { createLocalJWKSet, jwtVerify, type JSONWebKeySet, type JWTVerifyGetKey } from 'jose';
import { BoundedLru } from '../../../shared/cache/bounded-lru';
import type { Identity } from '../../../shared/http/identity';
import { REQUEST_ID_HEADER } from '../../../shared/observability/request-id';
import { gatewayConfig } from '../config';
import type { GatewayBindings } from '../env';
import { platformOf } from '../platform';
import { serviceTokenHeader } from './service-tokens';

/** The only algorithm accepted (docs/api.md): `alg: none`, HS256 and anything else are refused. */
const ALGORITHM = 'ES256';
export const JWKS_PATH = '/.well-known/jwks.json';

interface CachedKeys {
  keys: JWTVerifyGetKey;
  kids: Set<string>;
  fetchedAt: number;
  /** The last fetch attempt, failed ones included, so a failing users service is asked once per cooldown. */
  attemptedAt: number;
}

/**
 * The users service's public keys, kept per isolate. Refreshed after `JWKS_CACHE_MS`, and at
 * once when a token names a key we do not know (a rotation); at most one attempt per
 * `REFETCH_COOLDOWN_MS` either way, so neither a stream of forged `kid`s nor a hanging users
 * service turns into a fetch per request. Only the parsed keys are shared between requests, never
 * a fetch in progress (workerd forbids waiting on another request's I/O).
 */
const JWKS_CACHE_MS = 5 * 60_000;
const REFETCH_COOLDOWN_MS = 30_000;
const cache = new WeakMap<object, CachedKeys>();

async function fetchKeys(env: GatewayBindings, requestId: string): Promise<CachedKeys> {
  const headers = { ...(await serviceTokenHeader(env, { service: 'users', identity: null })), [REQUEST_ID_HEADER]: requestId };
  const response = await platformOf(env).service('USERS').fetch(new Request(`https://users.internal${JWKS_PATH}`, { headers, signal: AbortSignal.timeout(2_000) }));
  if (!response.ok) throw new Error(`JWKS answered ${response.status}`);
  const jwks = (await response.json()) as JSONWebKeySet;
  const now = Date.now();
  return { keys: createLocalJWKSet(jwks), kids: new Set(jwks.keys.map((k) => k.kid ?? '')), fetchedAt: now, attemptedAt: now };
}

async function keysFor(env: GatewayBindings, kid: string | undefined, requestId: string): Promise<CachedKeys> {
  // Keyed by the transport to the users service: one per isolate on Cloudflare (its binding).
  const users = platformOf(env).service('USERS');
  const cached = cache.get(users);
  const now = Date.now();
  if (cached) {
    const fresh = now - cached.fetchedAt < JWKS_CACHE_MS;
    const knowsKid = kid !== undefined && cached.kids.has(kid);
    const mayAsk = now - cached.attemptedAt >= REFETCH_COOLDOWN_MS;
    if ((fresh && knowsKid) || !mayAsk) return cached;
  }
  try {
    const next = await fetchKeys(env, requestId);
    cache.set(users, next);
    return next;
  } catch (error) {
    // The users service is down: keep verifying with the keys we have, and ask again later.
    if (cached) {
      cached.attemptedAt = now;
      return cached;
    }
    throw error;
  }
}

/**
 * Access tokens that verified, by their full text, until they expire: a signed-in caller's next
 * request costs a map lookup instead of an ES256 verification. A token that differs in any byte
 * is another key and is verified in full. Bounded (LRU), so a flood of distinct valid tokens
 * costs memory only up to ACCESS_TOKEN_CACHE_ENTRIES.
 */
export const ACCESS_TOKEN_CACHE_ENTRIES = 10_000;
interface VerifiedAccessToken {
  identity: Identity;
  /** Epoch ms of its `exp`, with no tolerance: never accepted from here after it. */
  validUntil: number;
  /** The key that signed it: accepted from here only while the users service still publishes it. */
  kid: string | undefined;
  /** The issuer and audience it was verified for (configuration, fixed per isolate in practice). */
  issuer: string;
  audience: string;
}
const verified = new BoundedLru<string, VerifiedAccessToken>(ACCESS_TOKEN_CACHE_ENTRIES);

function remembered(env: GatewayBindings, token: string, issuer: string, audience: string): Identity | undefined {
  const entry = verified.get(token);
  if (!entry) return undefined;
  const keys = cache.get(platformOf(env).service('USERS'));
  const stillPublished = keys !== undefined && (entry.kid === undefined || keys.kids.has(entry.kid));
  if (Date.now() < entry.validUntil && stillPublished && entry.issuer === issuer && entry.audience === audience) return { userId: entry.identity.userId, roles: [...entry.identity.roles] };
  verified.delete(token);
  return undefined;
}

/** Why a token was refused, as RFC 6750's `error_description` (never the token itself). */
export class AccessTokenError extends Error {
  override readonly name = 'AccessTokenError';
}

/**
 * Verifies a user's access token at the edge (docs/api.md): ES256 only, signed by a key in the users
 * service's JWKS, not expired and already valid, with our issuer and audience, and a subject.
 */
export async function verifyAccessToken(env: GatewayBindings, token: string, requestId: string): Promise<Identity> {
  const config = gatewayConfig(env);
  const known = remembered(env, token, config.ACCESS_TOKEN_ISSUER, config.ACCESS_TOKEN_AUDIENCE);
  if (known) return known;
  let kid: string | undefined;
  try {
    const header = JSON.parse(atob((token.split('.')[0] ?? '').replace(/-/g, '+').replace(/_/g, '/'))) as { kid?: unknown };
    kid = typeof header.kid === 'string' ? header.kid : undefined;
  } catch {
    throw new AccessTokenError('The token is not a JWT.');
  }
  let keys: CachedKeys;
  try {
    keys = await keysFor(env, kid, requestId);
  } catch {
    throw new AccessTokenError('The signing keys cannot be fetched right now.');
  }
  try {
    const { payload } = await jwtVerify(token, keys.keys, {
      algorithms: [ALGORITHM],
      issuer: config.ACCESS_TOKEN_ISSUER,
      audience: config.ACCESS_TOKEN_AUDIENCE,
      requiredClaims: ['sub', 'exp', 'iat'],
      clockTolerance: 5,
      // The same clock as the memory of verified tokens.
      currentDate: new Date(Date.now()),
    });
    const roles = Array.isArray(payload.roles) ? payload.roles.filter((r): r is string => typeof r === 'string') : [];
    const identity: Identity = { userId: payload.sub as string, roles };
    // requiredClaims made `exp` a number.
    const validUntil = payload.exp! * 1000;
    if (Date.now() < validUntil) verified.set(token, { identity, validUntil, kid, issuer: config.ACCESS_TOKEN_ISSUER, audience: config.ACCESS_TOKEN_AUDIENCE });
    return identity;
  } catch (error) {
    const code = (error as { code?: string }).code ?? '';
    const reason =
      code === 'ERR_JWT_EXPIRED'
        ? 'The token has expired.'
        : code === 'ERR_JWT_CLAIM_VALIDATION_FAILED'
          ? 'The token is not valid here (issuer, audience or time).'
          : code === 'ERR_JOSE_ALG_NOT_ALLOWED'
            ? 'The token is not signed with an accepted algorithm.'
            : 'The token signature or format is not valid.';
    throw new AccessTokenError(reason);
  }
}
