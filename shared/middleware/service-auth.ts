import type { Context, MiddlewareHandler } from 'hono';
import { HttpError } from '../http/problem';
import { SERVICE_TOKEN_HEADER, ServiceTokenVerifier, trustedIssuers } from '../security/service-token';
import type { AppEnv } from './app-env';
import { HEALTH_PATHS } from './health-paths';


/** One verifier per configured key set, built once per isolate. */
const verifiers = new Map<string, ServiceTokenVerifier | null>();

function verifierFor(service: string, jwks: unknown): ServiceTokenVerifier | null {
  if (typeof jwks !== 'string' || !jwks.trim()) return null;
  const cacheKey = `${service}\n${jwks}`;
  if (!verifiers.has(cacheKey)) {
    let verifier: ServiceTokenVerifier | null = null;
    try {
      verifier = new ServiceTokenVerifier(trustedIssuers(JSON.parse(jwks)), service);
    } catch {
      verifier = null;
    }
    verifiers.set(cacheKey, verifier);
  }
  return verifiers.get(cacheKey) ?? null;
}

const refused = (detail: string) =>
  new HttpError(401, { type: 'service-token-required', detail, headers: { 'www-authenticate': 'Bearer realm="stratus-service"' } });

/**
 * Every call to a service must carry a service token from the gateway (shared/security/
 * service-token.ts), verified against `SERVICE_TOKEN_PUBLIC_JWKS` (the gateway's JWK or JWKs, or an
 * object of issuer → JWKs when another service, such as the orders saga, may call too).
 * It fails closed: no key configured means every call is refused. The verified caller and the end
 * user it vouches for go on the context (`caller`, `identity`) for handlers and `requireRole`.
 */
export const serviceAuth = (service: string): MiddlewareHandler<AppEnv> =>
  async function serviceAuth(c: Context<AppEnv>, next) {
    // Liveness must not depend on anything, keys included.
    if (c.req.path === HEALTH_PATHS.live) return next();
    const env = (c.env ?? {}) as Record<string, unknown>;
    const verifier = verifierFor(service, env.SERVICE_TOKEN_PUBLIC_JWKS);
    if (!verifier) {
      c.get('log').error('SERVICE_TOKEN_PUBLIC_JWKS is missing or not JSON: refusing every call');
      throw refused('This service accepts calls from the gateway only.');
    }
    const token = c.req.header(SERVICE_TOKEN_HEADER);
    if (!token) throw refused('This service accepts calls from the gateway only.');
    try {
      const caller = await verifier.verify(token);
      c.set('caller', caller);
      c.set('identity', caller.userId ? { userId: caller.userId, roles: caller.roles } : null);
    } catch (error) {
      c.get('log').warn('service token refused', { reason: error instanceof Error ? error.message : String(error) });
      throw refused('The service token is not valid.');
    }
    await next();
  };
