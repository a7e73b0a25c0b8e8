import type { JWK } from 'jose';
import type { Identity } from '../../../shared/http/identity';
import { SERVICE_TOKEN_HEADER, ServiceTokenSigner, type ServiceClaims } from '../../../shared/security/service-token';
import { gatewayConfig } from '../config';
import type { GatewayBindings } from '../env';

/** One signer per configured key, per isolate (the key is imported once). */
const signers = new Map<string, ServiceTokenSigner>();

function signerFor(env: GatewayBindings): ServiceTokenSigner {
  const jwk = gatewayConfig(env).SERVICE_TOKEN_PRIVATE_JWK;
  let signer = signers.get(jwk.raw);
  if (!signer) {
    signer = new ServiceTokenSigner(jwk.key as JWK);
    signers.set(jwk.raw, signer);
  }
  return signer;
}

/**
 * The header that lets one call into a service: a token for that service only, saying who the
 * end user is (if anyone). Every call the gateway makes to a service carries one; services refuse
 * calls without it. The signer hands out the same token for the same (service, user, roles,
 * scope, flags on) for half its life, so a call costs a map lookup, not an ES256 signature; which request
 * caused the call is in `x-request-id` and `traceparent`, not in the token.
 */
export async function serviceTokenHeader(
  env: GatewayBindings,
  call: { service: string; identity: Identity | null; scope?: ServiceClaims['scope']; flags?: string[] },
): Promise<Record<string, string>> {
  const token = await signerFor(env).sign({
    service: call.service,
    userId: call.identity?.userId,
    roles: call.identity?.roles ?? [],
    scope: call.scope,
    flags: call.flags,
  });
  return { [SERVICE_TOKEN_HEADER]: token };
}
