import { createLocalJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import { beforeEach, describe, expect, it } from 'vitest';
import { asUser, get, jwks, loginPair, problemOf, register, resetDatabase, verifyAccessToken } from './support';

beforeEach(resetDatabase);

describe('GET /me', () => {
  it('answers the caller\'s profile, never the password hash', async () => {
    const { id } = await register('ann@example.com', undefined, 'Ann Lee');
    const response = await get('/me', asUser(id, 'customer'));
    expect(response.status).toBe(200);
    expect(response.headers.get('cache-control')).toBe('no-store');
    const body = await response.json();
    expect(body).toEqual({ id, email: 'ann@example.com', name: 'Ann Lee', roles: ['customer'], createdAt: expect.any(String) });
    expect(new Date((body as { createdAt: string }).createdAt).toISOString()).toBe((body as { createdAt: string }).createdAt);
    expect(JSON.stringify(body)).not.toContain('pbkdf2');
  });

  it('shows the roles stored for the user, not the ones the call claims', async () => {
    const { id } = await register('ann@example.com');
    expect(await (await get('/me', asUser(id, 'admin'))).json()).toMatchObject({ roles: ['customer'] });
  });

  it('401 without an identity, with WWW-Authenticate', async () => {
    await register('ann@example.com');
    const response = await get('/me');
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toBe('Bearer');
    await problemOf(response);
  });

  it('404 when the identity names no user', async () => {
    const response = await get('/me', asUser('usr_gone', 'customer'));
    expect(response.status).toBe(404);
    await problemOf(response);
  });
});

describe('GET /.well-known/jwks.json', () => {
  it('publishes the current public key first, then the previous one, in JWK shape; cacheable for 5 minutes', async () => {
    const response = await get('/.well-known/jwks.json');
    expect(response.status).toBe(200);
    expect(response.headers.get('cache-control')).toBe('public, max-age=300');
    const { keys } = (await response.json()) as { keys: Record<string, unknown>[] };
    const publicKey = { kty: 'EC', crv: 'P-256', x: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/), y: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/), alg: 'ES256', use: 'sig' };
    expect(keys).toEqual([
      { ...publicKey, kid: 'test-access-token' },
      { ...publicKey, kid: 'test-access-token-previous' },
    ]);
    // Exactly the public members: never `d`, nor anything else.
    for (const key of keys) expect(Object.keys(key).sort()).toEqual(['alg', 'crv', 'kid', 'kty', 'use', 'x', 'y']);
  });

  it('the current key verifies access tokens and the previous one does not (it only verifies its own)', async () => {
    await register('ann@example.com');
    const { accessToken } = await loginPair('ann@example.com');
    expect(decodeProtectedHeader(accessToken).kid).toBe('test-access-token');
    await expect(verifyAccessToken(accessToken)).resolves.toBeDefined();

    const { keys } = await jwks();
    const previousOnly = createLocalJWKSet({ keys: [{ ...keys[1], kid: 'test-access-token' }] } as Parameters<typeof createLocalJWKSet>[0]);
    await expect(jwtVerify(accessToken, previousOnly)).rejects.toThrow(/signature verification failed/);
  });

  it('a token is refused for another audience or issuer', async () => {
    await register('ann@example.com');
    const { accessToken } = await loginPair('ann@example.com');
    const keySet = createLocalJWKSet((await jwks()) as Parameters<typeof createLocalJWKSet>[0]);
    await expect(jwtVerify(accessToken, keySet, { audience: 'someone-else' })).rejects.toThrow(/aud/);
    await expect(jwtVerify(accessToken, keySet, { issuer: 'someone-else' })).rejects.toThrow(/iss/);
  });
});
