import { env } from 'cloudflare:workers';
import { decodeJwt } from 'jose';
import { beforeEach, describe, expect, it } from 'vitest';
import { get, login, post, problemOf, resetDatabase, verifyAccessToken } from './support';

beforeEach(resetDatabase);

describe('signing-key configuration', () => {
  it('without ACCESS_TOKEN_PRIVATE_JWK the worker is not ready, naming the variable, and login is a 500', async () => {
    const missing = { ACCESS_TOKEN_PRIVATE_JWK: undefined };
    const ready = await get('/ready', {}, missing);
    expect(ready.status).toBe(503);
    const report = (await ready.json()) as { checks: { signingKey: { status: string; error: string } } };
    expect(report.checks.signingKey.status).toBe('down');
    expect(report.checks.signingKey.error).toMatch(/ACCESS_TOKEN_PRIVATE_JWK: is required/);

    const response = await post('/login', { email: 'ann@example.com', password: 'whatever password' }, { bindings: missing });
    expect(response.status).toBe(500);
    await problemOf(response);
  });

  it('a malformed key is reported without its value', async () => {
    const secret = '{"kty":"EC","crv":"P-256","d":"c2VjcmV0LXZhbHVl"';
    const ready = await get('/ready', {}, { ACCESS_TOKEN_PRIVATE_JWK: secret });
    const text = await ready.text();
    expect(ready.status).toBe(503);
    expect(text).toContain('ACCESS_TOKEN_PRIVATE_JWK: not valid JSON');
    expect(text).not.toContain('c2VjcmV0LXZhbHVl');
  });

  it.each([
    ['a private member in the previous public keys', (jwk: Record<string, unknown>) => [{ ...jwk, kid: 'old', d: jwk.x }], /ACCESS_TOKEN_PREVIOUS_PUBLIC_JWKS/],
    ['a previous key with the current kid', (jwk: Record<string, unknown>) => [{ ...jwk, kid: 'test-access-token' }], /kid must be unique/],
  ])('refuses %s', async (_, previous, message) => {
    const { keys } = (await (await get('/.well-known/jwks.json')).json()) as { keys: Record<string, unknown>[] };
    const ready = await get('/ready', {}, { ACCESS_TOKEN_PREVIOUS_PUBLIC_JWKS: JSON.stringify(previous(keys[1]!)) });
    expect(ready.status).toBe(503);
    expect(await ready.text()).toMatch(message);
  });

  it('issuer and audience come from their vars', async () => {
    await post('/register', { email: 'ann@example.com', password: 'correct horse battery' });
    const bindings = { ACCESS_TOKEN_ISSUER: 'https://id.example', ACCESS_TOKEN_AUDIENCE: 'shop' };
    const response = await post('/login', { email: 'ann@example.com', password: 'correct horse battery' }, { bindings });
    const { accessToken } = (await response.json()) as { accessToken: string };
    expect(decodeJwt(accessToken)).toMatchObject({ iss: 'https://id.example', aud: 'shop' });
  });
});

describe('the demo seed (scripts/seed/users.sql)', () => {
  it('logs in as demo@example.com / demo-password-123, an admin', async () => {
    await env.DB.prepare(env.TEST_USERS_SEED_SQL).run();
    await env.DB.prepare(env.TEST_USERS_SEED_SQL).run(); // INSERT OR IGNORE: safe to repeat
    const response = await login('demo@example.com', 'demo-password-123');
    expect(response.status).toBe(200);
    const { payload } = await verifyAccessToken(((await response.json()) as { accessToken: string }).accessToken);
    expect(payload.roles).toContain('admin');
    expect(payload.sub).toBe('usr_demo');
  });
});
