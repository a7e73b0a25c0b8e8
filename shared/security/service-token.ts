import { createLocalJWKSet, decodeJwt, importJWK, jwtVerify, SignJWT, type JWK, type JWTVerifyGetKey } from 'jose';
import { BoundedLru } from '../cache/bounded-lru';

/**
 * Zero-trust service tokens (docs/architecture.md, decision 1): the gateway signs a short-lived token for
 * every call it makes to a service, naming that service, the caller and the request; every
 * service verifies it before anything else, so a service reached without one (a mis-configured
 * route, another worker's binding) answers 401.
 *
 * ES256, asymmetric on purpose: services hold only the public key, so a compromised service
 * cannot mint tokens to call the others. 60 seconds: long enough for a retried call, too short to
 * be worth stealing.
 *
 * Crypto off the hot path, the trust unchanged: a signer reuses the token it signed for the same
 * (audience, user, roles, scope) for the first half of its life (so one it hands out has at least
 * 30 s left), and a verifier remembers each token it verified, by its full text, until the token
 * expires; both in bounded LRU maps per isolate. A token never names the request that caused the
 * call (a reused one would name the wrong one): the request id travels in `x-request-id` and
 * `traceparent`, as on every other hop.
 */
export const SERVICE_TOKEN_HEADER = 'x-stratus-service-token';
/** The gateway's issuer name: the default, and the only issuer a bare key list is trusted for. */
export const SERVICE_TOKEN_ISSUER = 'stratus-gateway';
/** The orders service's issuer: its OrderSaga calls catalog and payments with its own key. */
export const ORDERS_SERVICE_TOKEN_ISSUER = 'stratus-orders';
export const SERVICE_TOKEN_TTL_SECONDS = 60;
/** How long a signed token is handed out again: half its life, so it is never sent with less than 30 s left. */
export const SERVICE_TOKEN_REUSE_SECONDS = 30;
/** Distinct (audience, user, roles, scope) a signer keeps a token for; tokens a verifier remembers. */
export const SERVICE_TOKEN_CACHE_ENTRIES = 1_000;
const ALGORITHM = 'ES256';
/** Seconds of clock skew allowed when a token is verified (never when a remembered one is reused). */
const CLOCK_TOLERANCE_SECONDS = 5;

export interface ServiceClaims {
  /** The service the token is for (its `aud`). */
  service: string;
  /** Who signed it (its `iss`): the gateway, or another service calling on its own account. */
  issuer?: string;
  /** The end user the call is made for, if any (its `sub`). */
  userId?: string;
  roles: string[];
  /** Extra powers: `ops` for the operator's endpoints (the chaos switch). */
  scope?: 'ops';
  /**
   * The feature flags that are on for this caller, as the gateway evaluated them (its `flags`
   * claim, keys in code-unit order): a service reads a flag from here (shared/flags/caller-flags.ts),
   * never from a header a client could send. Absent: none on (or a caller that evaluates none).
   */
  flags?: string[];
}

interface SignedToken {
  token: string;
  /** Epoch ms of its `iat` (whole seconds). */
  issuedAt: number;
  /** Epoch ms until which it is handed out again. */
  reuseUntil: number;
}

/**
 * Signs service tokens with the gateway's private key (imported once), reusing each token for
 * SERVICE_TOKEN_REUSE_SECONDS per (audience, user, roles, scope): the claims of a reused token are
 * exactly those asked for, only its `iat` is up to 30 s earlier.
 */
export class ServiceTokenSigner {
  private key: Promise<CryptoKey> | undefined;
  private readonly kid: string | undefined;
  private readonly signed = new BoundedLru<string, SignedToken>(SERVICE_TOKEN_CACHE_ENTRIES);

  constructor(
    private readonly privateJwk: JWK,
    private readonly issuer: string = SERVICE_TOKEN_ISSUER,
  ) {
    this.kid = privateJwk.kid;
  }

  async sign(claims: ServiceClaims, now = Date.now()): Promise<string> {
    // Every claim is in the key, in a form no two different claim sets share (JSON of an array).
    // The flags are in it too: a caller whose flags changed gets a new token at once, and callers
    // with the same flags (most of them, for most flag sets) still share one.
    const cacheKey = JSON.stringify([claims.service, claims.userId ?? null, claims.roles, claims.scope ?? null, claims.flags ?? []]);
    const reusable = this.signed.get(cacheKey);
    // Reused only while the clock is inside [iat, reuseUntil): after the clock steps back (an NTP
    // correction, a test's mocked clock restored) a remembered token could carry an `iat` in the
    // future, which every service refuses, for as long as it stayed remembered.
    if (reusable && now >= reusable.issuedAt && now < reusable.reuseUntil) return reusable.token;
    // importJWK returns a CryptoKey for EC keys; the union type also covers symmetric keys.
    this.key ??= importJWK(this.privateJwk, ALGORITHM) as Promise<CryptoKey>;
    const iat = Math.floor(now / 1000);
    const payload: Record<string, unknown> = { roles: claims.roles };
    if (claims.scope) payload.scope = claims.scope;
    if (claims.flags?.length) payload.flags = claims.flags;
    const jwt = new SignJWT(payload)
      .setProtectedHeader({ alg: ALGORITHM, typ: 'JWT', ...(this.kid ? { kid: this.kid } : {}) })
      .setIssuer(this.issuer)
      .setAudience(claims.service)
      .setIssuedAt(iat)
      .setExpirationTime(iat + SERVICE_TOKEN_TTL_SECONDS);
    if (claims.userId) jwt.setSubject(claims.userId);
    const token = await jwt.sign(await this.key);
    this.signed.set(cacheKey, { token, issuedAt: iat * 1000, reuseUntil: (iat + SERVICE_TOKEN_REUSE_SECONDS) * 1000 });
    return token;
  }
}

/** A copy a caller may change without touching the remembered claims. */
const copyClaims = (claims: ServiceClaims): ServiceClaims => ({ ...claims, roles: [...claims.roles], ...(claims.flags ? { flags: [...claims.flags] } : {}) });

/** A token that did not verify, with the reason (for the log, never for the caller). */
export class ServiceTokenError extends Error {
  override readonly name = 'ServiceTokenError';
}

/**
 * The keys a service trusts, per issuer. `SERVICE_TOKEN_PUBLIC_JWKS` is either a JWK or a list of
 * them (the gateway's keys: the common case) or an object `{ "<issuer>": [JWK, ...] }` naming
 * each issuer's keys. Keys are bound to their issuer, so a service holding its own private key can
 * sign as itself but never as the gateway.
 */
export type TrustedIssuers = Record<string, JWK[]>;

export function trustedIssuers(parsed: unknown): TrustedIssuers {
  if (Array.isArray(parsed)) return { [SERVICE_TOKEN_ISSUER]: parsed as JWK[] };
  if (parsed && typeof parsed === 'object' && 'kty' in parsed) return { [SERVICE_TOKEN_ISSUER]: [parsed as JWK] };
  if (parsed && typeof parsed === 'object') {
    const trusted: TrustedIssuers = {};
    for (const [issuer, keys] of Object.entries(parsed)) trusted[issuer] = (Array.isArray(keys) ? keys : [keys]) as JWK[];
    return trusted;
  }
  throw new Error('service-token keys must be a JWK, a list of JWKs, or an object of issuer → JWKs');
}

interface VerifiedToken {
  claims: ServiceClaims;
  /** Epoch ms at which it stops being accepted from memory: its `exp` or `iat` + TTL, whichever is first, with no tolerance. */
  validUntil: number;
}

/**
 * Verifies service tokens for one service against its trusted issuers' public keys (several each,
 * for rotation). A token that verified is remembered by its full text until it expires, so the
 * next call with the same token costs a map lookup: a token that differs in any byte (tampered,
 * re-signed, for another audience) is another key and is verified in full.
 */
export class ServiceTokenVerifier {
  private readonly keys = new Map<string, JWTVerifyGetKey>();
  private readonly verified = new BoundedLru<string, VerifiedToken>(SERVICE_TOKEN_CACHE_ENTRIES);

  constructor(
    trusted: JWK[] | TrustedIssuers,
    private readonly service: string,
  ) {
    const byIssuer = Array.isArray(trusted) ? { [SERVICE_TOKEN_ISSUER]: trusted } : trusted;
    for (const [issuer, keys] of Object.entries(byIssuer)) this.keys.set(issuer, createLocalJWKSet({ keys }));
  }

  async verify(token: string, now = Date.now()): Promise<ServiceClaims> {
    const remembered = this.verified.get(token);
    if (remembered) {
      if (now < remembered.validUntil) return { ...remembered.claims, roles: [...remembered.claims.roles] };
      this.verified.delete(token); // expired: verified in full below, which refuses it past the tolerance
    }
    try {
      // The unverified `iss` only chooses which issuer's keys to try; jwtVerify then checks the
      // signature with those keys alone and requires the same `iss`.
      const claimed = decodeJwt(token).iss;
      const keys = claimed ? this.keys.get(claimed) : undefined;
      if (!claimed || !keys) throw new Error(`issuer ${JSON.stringify(claimed)} is not trusted`);
      const { payload } = await jwtVerify(token, keys, {
        algorithms: [ALGORITHM],
        issuer: claimed,
        audience: this.service,
        requiredClaims: ['iat', 'exp'],
        maxTokenAge: SERVICE_TOKEN_TTL_SECONDS,
        clockTolerance: CLOCK_TOLERANCE_SECONDS,
        currentDate: new Date(now),
      });
      const roles = Array.isArray(payload.roles) ? payload.roles.filter((r): r is string => typeof r === 'string') : [];
      const claims: ServiceClaims = {
        service: this.service,
        issuer: claimed,
        userId: payload.sub,
        roles,
        scope: payload.scope === 'ops' ? 'ops' : undefined,
        ...(Array.isArray(payload.flags) ? { flags: payload.flags.filter((f): f is string => typeof f === 'string') } : {}),
      };
      // requiredClaims made both numbers; remembered only while valid without any tolerance.
      const validUntil = Math.min(payload.exp!, payload.iat! + SERVICE_TOKEN_TTL_SECONDS) * 1000;
      if (now < validUntil) this.verified.set(token, { claims: copyClaims(claims), validUntil });
      return claims;
    } catch (error) {
      throw new ServiceTokenError(error instanceof Error ? error.message : String(error));
    }
  }
}
