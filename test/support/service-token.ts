import { env } from 'cloudflare:workers';
import type { JWK } from 'jose';
import { ORDERS_SERVICE_TOKEN_ISSUER, SERVICE_TOKEN_HEADER, ServiceTokenSigner, type ServiceClaims } from '../../shared/security/service-token';

let signer: ServiceTokenSigner | undefined;
let ordersSigner: ServiceTokenSigner | undefined;

/**
 * Headers that let a test call a service as the orders saga does: a service token signed with
 * this run's orders key (issuer `stratus-orders`), for `service`, on no user's behalf.
 */
export async function asOrdersService(service: string): Promise<Record<string, string>> {
  ordersSigner ??= new ServiceTokenSigner(JSON.parse(env.TEST_ORDERS_SERVICE_TOKEN_PRIVATE_JWK) as JWK, ORDERS_SERVICE_TOKEN_ISSUER);
  return { [SERVICE_TOKEN_HEADER]: await ordersSigner.sign({ service, roles: [] }) };
}

/**
 * Headers that let a test call a service as the gateway would: a service token signed with this
 * run's gateway key (vitest.config.mts), for `service`, on behalf of `user` (or no one).
 */
export async function asGateway(
  service: string,
  user: { id: string; roles: string[] } | null = null,
  extra: Partial<Pick<ServiceClaims, 'scope'>> = {},
): Promise<Record<string, string>> {
  signer ??= new ServiceTokenSigner(JSON.parse(env.TEST_SERVICE_TOKEN_PRIVATE_JWK) as JWK);
  const token = await signer.sign({ service, userId: user?.id, roles: user?.roles ?? [], scope: extra.scope });
  return { [SERVICE_TOKEN_HEADER]: token };
}

interface FetchHandler {
  fetch(request: Request, env: Cloudflare.Env, ctx: ExecutionContext): Response | Promise<Response>;
}

/** Test-only headers naming the end user (and ops scope) a call is made for; see `viaGateway`. */
export const TEST_CALLER_HEADERS = { userId: 'x-test-user-id', roles: 'x-test-user-roles', scope: 'x-test-scope' } as const;

/** A test caller with some roles, as headers for `viaGateway`. */
export const testUser = (id: string, ...roles: string[]) => ({ [TEST_CALLER_HEADERS.userId]: id, [TEST_CALLER_HEADERS.roles]: roles.join(',') });

/**
 * A service worker as the gateway reaches it: every request gets a service token, for the end
 * user the test names in the x-test-user-* headers (removed before the service sees them), or for
 * no one. Tests that check what happens WITHOUT a token call the worker itself.
 */
export function viaGateway(worker: FetchHandler, service: string): FetchHandler {
  return {
    async fetch(request, env, ctx) {
      const headers = new Headers(request.headers);
      const id = headers.get(TEST_CALLER_HEADERS.userId);
      const roles = (headers.get(TEST_CALLER_HEADERS.roles) ?? '').split(',').filter(Boolean);
      const scope = headers.get(TEST_CALLER_HEADERS.scope) === 'ops' ? ('ops' as const) : undefined;
      for (const name of Object.values(TEST_CALLER_HEADERS)) headers.delete(name);
      for (const [name, value] of Object.entries(await asGateway(service, id ? { id, roles } : null, { scope }))) headers.set(name, value);
      return worker.fetch(new Request(request, { headers }), env, ctx);
    },
  };
}
