import { env } from 'cloudflare:workers';
import { decodeProtectedHeader } from 'jose';
import { beforeEach, describe, expect, it } from 'vitest';
import { clientNetwork } from '../../../shared/http/client-network';
import { decide } from '../../../workers/users/login-limiter';
import { AUDIENCE, count, freshIp, ISSUER, login, PASSWORD, post, problemOf, register, resetDatabase, verifyAccessToken, type Problem, type TokenPair } from './support';

beforeEach(resetDatabase);

describe('POST /login', () => {
  it('answers a token pair: an ES256 access token that verifies against the JWKS, and a refresh token', async () => {
    const user = await register('ann@example.com');
    const response = await login('ann@example.com');
    expect(response.status).toBe(200);
    expect(response.headers.get('cache-control')).toBe('no-store');
    const body = (await response.json()) as TokenPair;
    expect(body).toEqual({ accessToken: expect.any(String), refreshToken: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/), tokenType: 'Bearer', expiresIn: 900 });

    const { payload, protectedHeader } = await verifyAccessToken(body.accessToken);
    expect(protectedHeader).toEqual({ alg: 'ES256', kid: 'test-access-token', typ: 'JWT' });
    expect(payload).toEqual({
      iss: ISSUER,
      aud: AUDIENCE,
      sub: user.id,
      roles: ['customer'],
      iat: expect.any(Number),
      nbf: payload.iat,
      exp: (payload.iat ?? 0) + 900,
      jti: expect.stringMatching(/^[0-9a-f-]{36}$/),
    });
  });

  it('logs in with the email in any case and spacing', async () => {
    await register('ann@example.com');
    expect((await login('  ANN@Example.com ')).status).toBe(200);
  });

  it('gives every access token its own jti', async () => {
    await register('ann@example.com');
    const tokens = await Promise.all([login('ann@example.com'), login('ann@example.com')].map(async (r) => ((await (await r).json()) as TokenPair).accessToken));
    const jtis = await Promise.all(tokens.map(async (t) => (await verifyAccessToken(t)).payload.jti));
    expect(new Set(jtis).size).toBe(2);
    expect(tokens.map((t) => decodeProtectedHeader(t).kid)).toEqual(['test-access-token', 'test-access-token']);
  });

  it('answers an unknown email exactly as a wrong password: same status, headers and problem', async () => {
    await register('ann@example.com');
    const wrongPassword = await login('ann@example.com', 'not the password');
    const unknownEmail = await login('nobody@example.com', PASSWORD);
    for (const response of [wrongPassword, unknownEmail]) {
      expect(response.status).toBe(401);
      expect(response.headers.get('www-authenticate')).toBe('Bearer');
    }
    const headerNames = (r: Response) => [...r.headers.keys()].filter((k) => !['x-request-id', 'traceresponse'].includes(k)).sort();
    expect(headerNames(unknownEmail)).toEqual(headerNames(wrongPassword));
    const strip = ({ instance, requestId, ...rest }: Problem) => rest;
    expect(strip(await problemOf(unknownEmail))).toEqual(strip(await problemOf(wrongPassword)));
  });

  it('writes no refresh token for a failed login', async () => {
    await register('ann@example.com');
    await login('ann@example.com', 'not the password');
    await login('nobody@example.com');
    expect(await count('refresh_tokens')).toBe(0);
  });

  it.each([
    ['no email', { password: PASSWORD }, 'email'],
    ['no password', { email: 'ann@example.com' }, 'password'],
    ['an empty password', { email: 'ann@example.com', password: '' }, 'password'],
    ['a password over 256 characters', { email: 'ann@example.com', password: 'x'.repeat(257) }, 'password'],
    ['an unknown field', { email: 'ann@example.com', password: PASSWORD, remember: true }, '(root)'],
  ])('400s on %s, counting no attempt', async (_, body, field) => {
    const response = await post('/login', body, { ip: freshIp() });
    expect(response.status).toBe(400);
    expect((await problemOf(response)).errors?.map((e) => e.path)).toContain(field);
    expect(await count('login_attempts')).toBe(0);
  });
});

describe('login rate limits', () => {
  const expectLimited = async (response: Response) => {
    expect(response.status).toBe(429);
    const retryAfter = Number(response.headers.get('retry-after'));
    // The window began with the first attempt, moments ago: nearly all of its 15 minutes remain.
    expect(retryAfter).toBeGreaterThanOrEqual(890);
    expect(retryAfter).toBeLessThanOrEqual(900);
    expect((await problemOf(response)).type).toBe('/problems/too-many-login-attempts');
  };

  /** Moves every counter's window 15 minutes into the past: the window has ended. */
  const endWindows = () => env.DB.exec('UPDATE login_attempts SET window_start = window_start - 900000');

  it('an account: 5 failures, then 429 with Retry-After even for the right password, until the window ends', async () => {
    await register('ann@example.com');
    for (let i = 0; i < 5; i++) expect((await login('ann@example.com', 'wrong password')).status).toBe(401);
    await expectLimited(await login('ann@example.com'));
    await endWindows();
    expect((await login('ann@example.com')).status).toBe(200);
  });

  it('an unknown email is limited the same way, so a 429 does not reveal whether an account exists', async () => {
    for (let i = 0; i < 5; i++) expect((await login('nobody@example.com', 'wrong password')).status).toBe(401);
    await expectLimited(await login('nobody@example.com', 'wrong password'));
  });

  it('counts an account across letter cases', async () => {
    await register('ann@example.com');
    for (const email of ['ann@example.com', 'ANN@example.com', 'Ann@Example.com', 'aNN@example.com', 'ann@EXAMPLE.com']) {
      expect((await login(email, 'wrong password')).status).toBe(401);
    }
    await expectLimited(await login('ann@example.com'));
  });

  it('a successful login clears the account count', async () => {
    await register('ann@example.com');
    for (let i = 0; i < 4; i++) await login('ann@example.com', 'wrong password');
    expect((await login('ann@example.com')).status).toBe(200);
    expect(await count('login_attempts', 'key = ?', 'account:ann@example.com')).toBe(0);
    for (let i = 0; i < 5; i++) expect((await login('ann@example.com', 'wrong password')).status).toBe(401);
    await expectLimited(await login('ann@example.com'));
  });

  it('an address: 20 attempts of any outcome across accounts, then 429; other addresses are unaffected', async () => {
    await register('ann@example.com');
    const ip = freshIp();
    for (let i = 0; i < 19; i++) expect((await login(`guess${i}@example.com`, 'wrong password', ip)).status).toBe(401);
    expect((await login('ann@example.com', PASSWORD, ip)).status).toBe(200);
    await expectLimited(await login('ann@example.com', PASSWORD, ip));
    expect((await login('ann@example.com', PASSWORD, freshIp())).status).toBe(200);
    await endWindows();
    expect((await login('ann@example.com', PASSWORD, ip)).status).toBe(200);
  });

  it('20 concurrent wrong guesses at one account: exactly 5 are checked, 15 refused, every one counted', async () => {
    await register('ann@example.com');
    const responses = await Promise.all(Array.from({ length: 20 }, () => login('ann@example.com', 'wrong password')));
    expect(responses.filter((r) => r.status === 401)).toHaveLength(5);
    expect(responses.filter((r) => r.status === 429)).toHaveLength(15);
    const row = await env.DB.prepare("SELECT count FROM login_attempts WHERE key = 'account:ann@example.com'").first('count');
    expect(row).toBe(20);
  });

  it('30 concurrent attempts from one address: exactly 20 get through, the counter is exact', async () => {
    const ip = freshIp();
    const responses = await Promise.all(Array.from({ length: 30 }, (_, i) => login(`guess${i}@example.com`, 'wrong password', ip)));
    expect(responses.filter((r) => r.status === 401)).toHaveLength(20);
    expect(responses.filter((r) => r.status === 429)).toHaveLength(10);
    expect(await env.DB.prepare('SELECT count FROM login_attempts WHERE key = ?').bind(`ip:${clientNetwork(ip)}`).first('count')).toBe(30);
  });

  it('without cf-connecting-ip, callers share one "unknown" address: limited, not exempt', async () => {
    const responses = [];
    for (let i = 0; i < 21; i++) responses.push(await post('/login', { email: `guess${i}@example.com`, password: 'wrong password' }));
    expect(responses.slice(0, 20).map((r) => r.status)).toEqual(Array(20).fill(401));
    await expectLimited(responses[20]!);
  });
});

describe('the fixed-window decision', () => {
  const rule = { limit: 5, windowMs: 900_000 };

  it('allows up to the limit and refuses after it', () => {
    expect(decide(rule, 5, 0, 1_000).allowed).toBe(true);
    expect(decide(rule, 6, 0, 1_000).allowed).toBe(false);
  });

  it('asks to retry when the window ends, rounded up, never under a second', () => {
    expect(decide(rule, 6, 0, 1_000).retryAfterSeconds).toBe(899);
    expect(decide(rule, 6, 0, 1_500).retryAfterSeconds).toBe(899);
    expect(decide(rule, 6, 0, 899_999).retryAfterSeconds).toBe(1);
    expect(decide(rule, 6, 0, 900_000).retryAfterSeconds).toBe(1);
  });
});
