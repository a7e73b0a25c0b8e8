import { createLocalJWKSet, importJWK, jwtVerify, SignJWT, type JWK, type JWTVerifyGetKey } from 'jose';

/**
 * Zero-trust service tokens (DESIGN.md decision 1): the gateway signs a short-lived token for
 * every call it makes to a service, naming that service, the caller and the request; every
 * service verifies it before anything else, so a service reached without one (a mis-configured
 * route, another worker's binding) answers 401.
 *
 * ES256, asymmetric on purpose: services hold only the public key, so a compromised service
 * cannot mint tokens to call the others. 60 seconds: long enough for a retried call, too short to
 * be worth stealing.
 */
export const SERVICE_TOKEN_HEADER = 'x-stratus-service-token';
export const SERVICE_TOKEN_ISSUER = 'stratus-gateway';
export const SERVICE_TOKEN_TTL_SECONDS = 60;
const ALGORITHM = 'ES256';

export interface ServiceClaims {
  /** The service the token is for (its `aud`). */
  service: string;
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

  constructor(private readonly privateJwk: JWK) {
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
      .setIssuer(SERVICE_TOKEN_ISSUER)
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

/** Verifies service tokens for one service against the gateway's public keys (several, for rotation). */
export class ServiceTokenVerifier {
  private readonly keys: JWTVerifyGetKey;

  constructor(
    publicJwks: JWK[],
    private readonly service: string,
  ) {
    this.keys = createLocalJWKSet({ keys: publicJwks });
  }

  async verify(token: string, now = Date.now()): Promise<ServiceClaims> {
    try {
      const { payload } = await jwtVerify(token, this.keys, {
        algorithms: [ALGORITHM],
        issuer: SERVICE_TOKEN_ISSUER,
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
