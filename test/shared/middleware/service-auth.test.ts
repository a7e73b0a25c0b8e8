import type { JWK } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import { generateSigningKeyPair } from '../../../scripts/dev-keys.mjs';
import { createServiceApp } from '../../../shared/middleware/service-app';
import { SERVICE_TOKEN_HEADER, ServiceTokenSigner } from '../../../shared/security/service-token';

let signer: ServiceTokenSigner;
let trust: { SERVICE_TOKEN_PUBLIC_JWKS: string };

beforeAll(async () => {
  const keys = await generateSigningKeyPair('k1');
  signer = new ServiceTokenSigner(keys.privateJwk as JWK);
  trust = { SERVICE_TOKEN_PUBLIC_JWKS: JSON.stringify([keys.publicJwk]) };
});

function service() {
  const app = createServiceApp<object>({ service: 'catalog', verifyServiceToken: true, write: () => undefined });
  app.get('/health', (c) => c.text('alive'));
  app.get('/who', (c) => c.json({ identity: c.get('identity') ?? null, caller: c.get('caller')?.issuer }));
  return app;
}

const withToken = async (claims: Partial<Parameters<ServiceTokenSigner['sign']>[0]> = {}) => ({
  headers: { [SERVICE_TOKEN_HEADER]: await signer.sign({ service: 'catalog', roles: [], ...claims }) },
});

describe('serviceAuth (every call into a service)', () => {
  it('puts the user the gateway vouched for on the context', async () => {
    const response = await service().request('/who', await withToken({ userId: 'u1', roles: ['admin'] }), trust);
    expect(await response.json()).toEqual({ identity: { userId: 'u1', roles: ['admin'] }, caller: 'stratus-gateway' });
    const anonymous = await service().request('/who', await withToken(), trust);
    expect(await anonymous.json()).toEqual({ identity: null, caller: 'stratus-gateway' });
  });

  it('refuses a call without a token, with a tampered token, or with a token for another service: 401 problem', async () => {
    const good = (await withToken({ userId: 'u1', roles: ['customer'] })).headers[SERVICE_TOKEN_HEADER];
    const [head, body, signature] = good.split('.');
    const elevated = btoa(JSON.stringify({ ...JSON.parse(atob(body!.replace(/-/g, '+').replace(/_/g, '/'))), roles: ['admin'] })).replace(/=+$/, '').replace(/\+/g, '-').replace(/\//g, '_');
    const cases: RequestInit[] = [
      {},
      { headers: { [SERVICE_TOKEN_HEADER]: `${head}.${elevated}.${signature}` } },
      { headers: { [SERVICE_TOKEN_HEADER]: await signer.sign({ service: 'payments', roles: [] }) } },
    ];
    for (const init of cases) {
      const response = await service().request('/who', init, trust);
      expect(response.status).toBe(401);
      expect(response.headers.get('content-type')).toBe('application/problem+json');
      expect(response.headers.get('www-authenticate')).toMatch(/^Bearer/);
    }
  });

  it('fails closed: with no key configured every call is refused, but liveness still answers', async () => {
    expect((await service().request('/who', await withToken(), {})).status).toBe(401);
    expect((await service().request('/who', await withToken(), { SERVICE_TOKEN_PUBLIC_JWKS: 'not json' })).status).toBe(401);
    expect((await service().request('/health', {}, {})).status).toBe(200);
  });
});
