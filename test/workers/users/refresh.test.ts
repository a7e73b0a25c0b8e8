import { env } from 'cloudflare:workers';
import { beforeEach, describe, expect, it } from 'vitest';
import { count, loginPair, logout, post, problemOf, refresh, register, resetDatabase, verifyAccessToken, type TokenPair } from './support';

let userId: string;

beforeEach(async () => {
  await resetDatabase();
  userId = (await register('ann@example.com')).id;
});

const sha256Hex = async (text: string) =>
  Array.from(new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text))), (b) => b.toString(16).padStart(2, '0')).join('');

const pairOf = async (response: Response): Promise<TokenPair> => {
  expect(response.status).toBe(200);
  return response.json();
};

const familyOf = (refreshToken: string) =>
  sha256Hex(refreshToken).then((hash) =>
    env.DB.prepare('SELECT f.id, f.revoked_at AS revokedAt, f.revoked_reason AS reason FROM refresh_tokens t JOIN refresh_families f ON f.id = t.family_id WHERE t.token_hash = ?')
      .bind(hash)
      .first<{ id: string; revokedAt: string | null; reason: string | null }>(),
  );

describe('POST /refresh', () => {
  it('exchanges a refresh token for a new pair; the new access token verifies for the same user', async () => {
    const first = await loginPair('ann@example.com');
    const response = await refresh(first.refreshToken);
    expect(response.headers.get('cache-control')).toBe('no-store');
    const second = await pairOf(response);
    expect(second).toEqual({ accessToken: expect.any(String), refreshToken: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/), tokenType: 'Bearer', expiresIn: 900 });
    expect(second.refreshToken).not.toBe(first.refreshToken);
    const { payload } = await verifyAccessToken(second.accessToken);
    expect(payload.sub).toBe(userId);
    expect(payload.exp! - payload.iat!).toBe(900);
  });

  it('rotates on every use: each new token works once, in one family', async () => {
    let pair = await loginPair('ann@example.com');
    const family = (await familyOf(pair.refreshToken))?.id;
    for (let i = 0; i < 3; i++) {
      pair = await pairOf(await refresh(pair.refreshToken));
      expect((await familyOf(pair.refreshToken))?.id).toBe(family);
    }
    expect(await count('refresh_tokens', 'family_id = ?', family)).toBe(4);
    expect(await count('refresh_tokens', 'family_id = ? AND spent_at IS NULL', family)).toBe(1);
  });

  it('stores refresh tokens only as SHA-256 hashes', async () => {
    const pair = await loginPair('ann@example.com');
    const rows = await env.DB.prepare('SELECT * FROM refresh_tokens').all();
    expect(JSON.stringify(rows.results)).not.toContain(pair.refreshToken);
    expect(rows.results.map((r) => r.token_hash)).toEqual([await sha256Hex(pair.refreshToken)]);
  });

  it('puts the roles the user has now into the new access token', async () => {
    const pair = await loginPair('ann@example.com');
    await env.DB.prepare(`UPDATE users SET roles = '["customer","admin"]' WHERE id = ?`).bind(userId).run();
    const next = await pairOf(await refresh(pair.refreshToken));
    expect((await verifyAccessToken(next.accessToken)).payload.roles).toEqual(['customer', 'admin']);
  });

  it('a spent token presented again is 401 and revokes its whole family: the newest token dies too', async () => {
    const first = await loginPair('ann@example.com');
    const second = await pairOf(await refresh(first.refreshToken));

    const replay = await refresh(first.refreshToken);
    expect(replay.status).toBe(401);
    expect(replay.headers.get('www-authenticate')).toBe('Bearer');
    await problemOf(replay);
    expect(await familyOf(first.refreshToken)).toMatchObject({ revokedAt: expect.any(String), reason: 'reuse' });

    expect((await refresh(second.refreshToken)).status).toBe(401);
  });

  it('revoking one family leaves the same user\'s other logins alone', async () => {
    const phone = await loginPair('ann@example.com');
    const laptop = await loginPair('ann@example.com');
    await refresh(phone.refreshToken);
    expect((await refresh(phone.refreshToken)).status).toBe(401);
    expect((await refresh(laptop.refreshToken)).status).toBe(200);
  });

  it('10 concurrent refreshes with one token: exactly one succeeds, exactly one new token is issued', async () => {
    const pair = await loginPair('ann@example.com');
    const family = (await familyOf(pair.refreshToken))?.id;
    const responses = await Promise.all(Array.from({ length: 10 }, () => refresh(pair.refreshToken)));
    const winners = responses.filter((r) => r.status === 200);
    expect(winners).toHaveLength(1);
    expect(responses.filter((r) => r.status === 401)).toHaveLength(9);
    expect(await count('refresh_tokens', 'family_id = ?', family)).toBe(2);
    // The losers presented a token that was spent by then: indistinguishable from a replay, so the
    // family is revoked and the winner's new token is dead as well. Clients must not refresh in parallel.
    const winner = (await winners[0]!.json()) as TokenPair;
    expect((await refresh(winner.refreshToken)).status).toBe(401);
  });

  it('an expired token is 401, without revoking its family', async () => {
    const pair = await loginPair('ann@example.com');
    await env.DB.prepare('UPDATE refresh_tokens SET expires_at = ?').bind(Date.now() - 1).run();
    expect((await refresh(pair.refreshToken)).status).toBe(401);
    expect((await familyOf(pair.refreshToken))?.revokedAt).toBeNull();
    expect(await count('refresh_tokens', 'spent_at IS NOT NULL')).toBe(0);
  });

  it('gives refresh tokens 30 days', async () => {
    const before = Date.now();
    const pair = await loginPair('ann@example.com');
    const expiresAt = await env.DB.prepare('SELECT expires_at FROM refresh_tokens WHERE token_hash = ?').bind(await sha256Hex(pair.refreshToken)).first<number>('expires_at');
    expect(expiresAt! - before).toBeGreaterThanOrEqual(30 * 86_400_000);
    expect(expiresAt! - before).toBeLessThan(30 * 86_400_000 + 60_000);
  });

  it('an unknown token is 401 and writes nothing', async () => {
    const response = await refresh('A'.repeat(43));
    expect(response.status).toBe(401);
    expect(await count('refresh_tokens')).toBe(0);
  });

  it.each([
    ['no token', {}],
    ['an empty token', { refreshToken: '' }],
    ['a token that is not a string', { refreshToken: 42 }],
    ['an unknown field', { refreshToken: 'x', extra: 1 }],
  ])('400s on %s', async (_, body) => {
    const response = await post('/refresh', body);
    expect(response.status).toBe(400);
    expect((await problemOf(response)).type).toBe('/problems/validation-failed');
  });
});

describe('POST /logout', () => {
  it('204, and the refresh token no longer works', async () => {
    const pair = await loginPair('ann@example.com');
    const response = await logout(pair.refreshToken);
    expect(response.status).toBe(204);
    expect(await response.text()).toBe('');
    expect(await familyOf(pair.refreshToken)).toMatchObject({ revokedAt: expect.any(String), reason: 'logout' });
    expect((await refresh(pair.refreshToken)).status).toBe(401);
  });

  it('revokes the whole family: logging out with an older token ends the session too', async () => {
    const first = await loginPair('ann@example.com');
    const second = await pairOf(await refresh(first.refreshToken));
    expect((await logout(first.refreshToken)).status).toBe(204);
    expect((await refresh(second.refreshToken)).status).toBe(401);
  });

  it('is 204 for an unknown token and when repeated', async () => {
    const pair = await loginPair('ann@example.com');
    expect((await logout('B'.repeat(43))).status).toBe(204);
    expect((await logout(pair.refreshToken)).status).toBe(204);
    expect((await logout(pair.refreshToken)).status).toBe(204);
  });

  it('400s without a token', async () => {
    expect((await post('/logout', {})).status).toBe(400);
  });
});
