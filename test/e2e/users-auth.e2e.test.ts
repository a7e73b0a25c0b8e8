import { describe, expect, it } from 'vitest';
import gateway from '../../workers/gateway/index';
import { callWorker, json } from '../support/call-worker';

interface Tokens {
  accessToken: string;
  refreshToken: string;
  tokenType: string;
  expiresIn: number;
}

const ip = (n: number) => ({ 'cf-connecting-ip': `203.0.113.${n}` });

describe('users through the gateway: register, log in, call as yourself', () => {
  it('registers, logs in, reads /me with the access token verified at the edge, and refreshes', async () => {
    const email = `e2e-${crypto.randomUUID()}@example.com`;
    const registered = await callWorker(gateway, '/api/users/register', json({ email, password: 'correct horse battery', name: 'E2E' }, ip(1)));
    expect(registered.status).toBe(201);
    const { id } = (await registered.json()) as { id: string };

    const login = await callWorker(gateway, '/api/users/login', json({ email, password: 'correct horse battery' }, ip(1)));
    expect(login.status).toBe(200);
    const tokens = (await login.json()) as Tokens;
    expect(tokens).toMatchObject({ tokenType: 'Bearer', expiresIn: 900 });

    const me = await callWorker(gateway, '/api/users/me', { headers: { authorization: `Bearer ${tokens.accessToken}` } });
    expect(me.status).toBe(200);
    expect(await me.json()).toMatchObject({ id, email, name: 'E2E', roles: ['customer'] });
    expect((await callWorker(gateway, '/api/users/me')).status).toBe(401);

    const refreshed = await callWorker(gateway, '/api/users/refresh', json({ refreshToken: tokens.refreshToken }, ip(1)));
    expect(refreshed.status).toBe(200);
    // The spent refresh token again: 401, and the family is revoked.
    expect((await callWorker(gateway, '/api/users/refresh', json({ refreshToken: tokens.refreshToken }, ip(1)))).status).toBe(401);
    const newer = (await refreshed.json()) as Tokens;
    expect((await callWorker(gateway, '/api/users/refresh', json({ refreshToken: newer.refreshToken }, ip(1)))).status).toBe(401);
  });

  it('the seeded demo admin can log in and write to the catalog', async () => {
    const login = await callWorker(gateway, '/api/users/login', json({ email: 'demo@example.com', password: 'demo-password-123' }, ip(2)));
    expect(login.status).toBe(200);
    const { accessToken } = (await login.json()) as Tokens;
    const created = await callWorker(
      gateway,
      '/api/catalog/products',
      json({ name: 'Demo Lantern', priceCents: 2900, currency: 'EUR', stock: 4 }, { authorization: `Bearer ${accessToken}` }),
    );
    expect(created.status).toBe(201);
  });

  it('ignores a stale token a client attaches to login and refresh, so it can still get a new one', async () => {
    const login = await callWorker(
      gateway,
      '/api/users/login',
      json({ email: 'demo@example.com', password: 'demo-password-123' }, { ...ip(4), authorization: 'Bearer expired.or.garbage' }),
    );
    expect(login.status).toBe(200);
    expect(login.headers.get('ratelimit-policy')).toBe('"users";q=60;w=60');
    const { refreshToken } = (await login.json()) as Tokens;
    const refreshed = await callWorker(gateway, '/api/users/refresh', json({ refreshToken }, { ...ip(4), authorization: 'Bearer expired.or.garbage' }));
    expect(refreshed.status).toBe(200);
    // Where a caller is asked for, a broken token is still a 401.
    expect((await callWorker(gateway, '/api/users/me', { headers: { authorization: 'Bearer expired.or.garbage' } })).status).toBe(401);
  });

  it('publishes the JWKS at /.well-known/jwks.json', async () => {
    const response = await callWorker(gateway, '/.well-known/jwks.json');
    expect(response.status).toBe(200);
    const { keys } = (await response.json()) as { keys: { kty: string; alg: string; kid: string; d?: string }[] };
    expect(keys.length).toBeGreaterThan(0);
    expect(keys.every((k) => k.kty === 'EC' && k.alg === 'ES256' && k.kid && k.d === undefined)).toBe(true);
  });

  it('the same 401 for an unknown email and a wrong password', async () => {
    const unknown = await callWorker(gateway, '/api/users/login', json({ email: 'nobody@example.com', password: 'whatever-long-1' }, ip(3)));
    const wrong = await callWorker(gateway, '/api/users/login', json({ email: 'demo@example.com', password: 'wrong-password-1' }, ip(3)));
    expect(unknown.status).toBe(401);
    expect(wrong.status).toBe(401);
    const strip = (p: Record<string, unknown>) => ({ ...p, instance: undefined, requestId: undefined });
    expect(strip((await unknown.json()) as Record<string, unknown>)).toEqual(strip((await wrong.json()) as Record<string, unknown>));
  });
});

describe('limited routes keep their RateLimit headers on auth failures', () => {
  it('a refused token on the users route still carries RateLimit-Policy and RateLimit', async () => {
    const response = await callWorker(gateway, '/api/users/me', { headers: { ...ip(5), authorization: 'Bearer broken' } });
    expect(response.status).toBe(401);
    expect(response.headers.get('ratelimit-policy')).toBe('"users";q=60;w=60');
    expect(response.headers.get('ratelimit')).toMatch(/^"users";r=\d+;t=\d+$/);
  });
});
