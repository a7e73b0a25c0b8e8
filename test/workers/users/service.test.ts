import { afterEach, describe, expect, it, vi } from 'vitest';
import usersWorker from '../../../workers/users/index';
import { callWorker, json } from '../../support/call-worker';
import { get, PASSWORD, post, problemOf, resetDatabase, users } from './support';

describe('as a stratus service', () => {
  it('refuses a call without the gateway\'s service token, before anything else (401)', async () => {
    for (const [path, init] of [
      ['/register', json({ email: 'ann@example.com', password: PASSWORD })],
      ['/login', json({ email: 'ann@example.com', password: PASSWORD })],
      ['/.well-known/jwks.json', {}],
      ['/me', { headers: { 'x-stratus-user-id': 'usr_1', 'x-stratus-user-roles': 'admin' } }],
    ] as const) {
      const response = await callWorker(usersWorker, path, init);
      expect(response.status).toBe(401);
      await problemOf(response);
    }
  });

  it('415 for a body that is not JSON', async () => {
    const response = await callWorker(users, '/login', { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'email=a&password=b' });
    expect(response.status).toBe(415);
    await problemOf(response);
  });

  it('413 for a body over its 16 KiB limit', async () => {
    const response = await post('/register', { email: 'ann@example.com', password: 'x'.repeat(20_000) });
    expect(response.status).toBe(413);
    await problemOf(response);
  });

  it('404 problem for an unknown route', async () => {
    const response = await get('/users');
    expect(response.status).toBe(404);
    await problemOf(response);
  });

  it('/health answers; /ready checks D1 and the signing key', async () => {
    expect((await get('/health')).status).toBe(200);
    const ready = await get('/ready');
    expect(await ready.json()).toEqual({ status: 'ready', checks: { db: { status: 'up' }, signingKey: { status: 'up' } } });
  });
});

describe('secrets never reach a log line', () => {
  afterEach(() => vi.restoreAllMocks());

  it('no password, access token or refresh token in any line, at debug level', async () => {
    await resetDatabase();
    const lines: string[] = [];
    vi.spyOn(console, 'log').mockImplementation((line: unknown) => void lines.push(String(line)));
    const debug = { bindings: { LOG_LEVEL: 'debug' } };

    await post('/register', { email: 'ann@example.com', password: PASSWORD }, debug);
    await post('/login', { email: 'ann@example.com', password: 'a wrong password' }, debug);
    const login = await post('/login', { email: 'ann@example.com', password: PASSWORD }, debug);
    const first = (await login.json()) as { accessToken: string; refreshToken: string };
    const second = (await (await post('/refresh', { refreshToken: first.refreshToken }, debug)).json()) as { accessToken: string; refreshToken: string };
    await post('/refresh', { refreshToken: first.refreshToken }, debug); // reuse: logged as a warning
    await post('/logout', { refreshToken: second.refreshToken }, debug);

    expect(lines.length).toBeGreaterThan(6);
    const log = lines.join('\n');
    for (const secret of [PASSWORD, 'a wrong password', first.accessToken, first.refreshToken, second.accessToken, second.refreshToken]) {
      expect(log).not.toContain(secret);
    }
    expect(log).toContain('refresh token reused: family revoked');
  });
});
