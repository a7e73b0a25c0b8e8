import { createLocalJWKSet, decodeJwt, importJWK, jwtVerify, SignJWT, type JWK, type JWTVerifyGetKey } from 'jose';

/**
 * Zero-trust service tokens (docs/architecture.md, decision 1): the gateway signs a short-lived token for
 * every call it makes to a service, naming that service, the caller and the request; every
 * service verifies it before anything else, so a service reached without one (a mis-configured
 * route, another worker's binding) answers 401.
 *
 * ES256, asymmetric on purpose: services hold only the public key, so a compromised service
 * cannot mint tokens to call the others. 60 seconds: long enough for a retried call, too short to
 * be worth stealing.
 */
export const SERVICE_TOKEN_HEADER = 'x-stratus-service-token';
/** The gateway's issuer name: the default, and the only issuer a bare key list is trusted for. */
export const SERVICE_TOKEN_ISSUER = 'stratus-gateway';
/** The orders service's issuer: its OrderSaga calls catalog and payments with its own key. */
export const ORDERS_SERVICE_TOKEN_ISSUER = 'stratus-orders';
export const SERVICE_TOKEN_TTL_SECONDS = 60;
const ALGORITHM = 'ES256';

export interface ServiceClaims {
  /** The service the token is for (its `aud`). */
  service: string;
  /** Who signed it (its `iss`): the gateway, or another service calling on its own account. */
  issuer?: string;
  /** The end user the call is made for, if any (its `sub`). */
  userId?: string;
  roles: string[];
  /** The request that caused the call, so the service's logs can be joined with the gateway's. */
  requestId: string;
  /** Extra powers: `ops` for the operator's endpoints (the chaos switch). */
  scope?: 'ops';
}

/** Signs service tokens with the gateway's private key; the key is imported once. */
export class ServiceTokenSigner {
  private key: Promise<CryptoKey> | undefined;
  private readonly kid: string | undefined;

  constructor(
    private readonly privateJwk: JWK,
    private readonly issuer: string = SERVICE_TOKEN_ISSUER,
  ) {
    this.kid = privateJwk.kid;
  }

  async sign(claims: ServiceClaims, now = Date.now()): Promise<string> {
    // importJWK returns a CryptoKey for EC keys; the union type also covers symmetric keys.
    this.key ??= importJWK(this.privateJwk, ALGORITHM) as Promise<CryptoKey>;
    const iat = Math.floor(now / 1000);
    const payload: Record<string, unknown> = { roles: claims.roles, rid: claims.requestId };
    if (claims.scope) payload.scope = claims.scope;
    const jwt = new SignJWT(payload)
      .setProtectedHeader({ alg: ALGORITHM, typ: 'JWT', ...(this.kid ? { kid: this.kid } : {}) })
      .setIssuer(this.issuer)
      .setAudience(claims.service)
      .setIssuedAt(iat)
      .setExpirationTime(iat + SERVICE_TOKEN_TTL_SECONDS);
    if (claims.userId) jwt.setSubject(claims.userId);
    return jwt.sign(await this.key);
  }
}

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

/** Verifies service tokens for one service against its trusted issuers' public keys (several each, for rotation). */
export class ServiceTokenVerifier {
  private readonly keys = new Map<string, JWTVerifyGetKey>();

  constructor(
    trusted: JWK[] | TrustedIssuers,
    private readonly service: string,
  ) {
    const byIssuer = Array.isArray(trusted) ? { [SERVICE_TOKEN_ISSUER]: trusted } : trusted;
    for (const [issuer, keys] of Object.entries(byIssuer)) this.keys.set(issuer, createLocalJWKSet({ keys }));
  }

  async verify(token: string, now = Date.now()): Promise<ServiceClaims> {
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
        clockTolerance: 5,
        currentDate: new Date(now),
      });
      const roles = Array.isArray(payload.roles) ? payload.roles.filter((r): r is string => typeof r === 'string') : [];
      const requestId = typeof payload.rid === 'string' ? payload.rid : '';
      return {
        service: this.service,
        issuer: claimed,
        userId: payload.sub,
        roles,
        requestId,
        scope: payload.scope === 'ops' ? 'ops' : undefined,
      };
    } catch (error) {
      throw new ServiceTokenError(error instanceof Error ? error.message : String(error));
    }
  }
}
