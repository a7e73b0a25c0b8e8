import { clientNetwork } from '../../shared/http/client-network';
import { Hono, type Context } from 'hono';
import { drizzle } from 'drizzle-orm/d1';
import { requestD1 } from '../../shared/adapters/cloudflare/traced-d1';
import { HttpError, unauthorized } from '../../shared/http/problem';
import type { AppEnv } from '../../shared/middleware/app-env';
import { validate } from '../../shared/validation/validate';
import { ACCESS_TOKEN_TTL_SECONDS, issueAccessToken } from './access-token';
import { usersConfig } from './config';
import type { UsersBindings } from './env';
import { LOGIN_LIMITS, LoginLimiter, type LimitDecision } from './login-limiter';
import { DUMMY_PASSWORD_HASH, hashPassword, needsRehash, verifyPassword } from './password';
import { hashRefreshToken, newRefreshToken } from './refresh-token';
import { RefreshTokenRepository } from './refresh-token-repository';
import type { UserRow } from './schema';
import { UserRepository } from './user-repository';
import { loginInput, refreshInput, type TokenPair } from './user-schemas';

type UsersContext = Context<AppEnv<UsersBindings>>;

/** Token answers must never be stored by a cache (RFC 6749 §5.1). */
const NO_STORE = { 'cache-control': 'no-store' };

/** One answer for an unknown email and a wrong password, so neither tells which it was. */
const invalidCredentials = () => unauthorized('The email or password is incorrect.', { 'www-authenticate': 'Bearer' });
const invalidRefreshToken = () =>
  unauthorized('The refresh token is not valid: unknown, expired, already used or revoked. Log in again.', { 'www-authenticate': 'Bearer' });
const tooManyAttempts = (decision: LimitDecision) =>
  new HttpError(429, {
    type: 'too-many-login-attempts',
    detail: 'Too many login attempts; try again later.',
    headers: { 'retry-after': String(decision.retryAfterSeconds) },
  });

/**
 * The client's address as Cloudflare saw it. The gateway forwards `cf-connecting-ip` from the
 * edge (a client cannot forge it there: Cloudflare overwrites it). Without it (a direct call in a
 * test or a misrouted request) every such caller shares one "unknown" bucket: limited, not exempt.
 */
// An IPv6 caller is counted by its /64: one subscriber can pick any address in it.
const clientIp = (c: UsersContext) => clientNetwork(c.req.header('cf-connecting-ip') ?? '') ?? 'unknown';

/** A new access token and the given refresh token, in docs/api.md's shape. */
async function tokenPair(c: UsersContext, user: UserRow, refreshToken: string, nowMs: number): Promise<TokenPair> {
  const accessToken = await issueAccessToken(usersConfig(c.env), { id: user.id, roles: user.roles }, nowMs);
  return { accessToken, refreshToken, tokenType: 'Bearer', expiresIn: ACCESS_TOKEN_TTL_SECONDS };
}

export const tokenRoutes = new Hono<AppEnv<UsersBindings>>()
  .post('/login', validate('json', loginInput), async (c) => {
    const { email, password } = c.req.valid('json');
    // Each query a span of the request (traced-d1.ts); the work handed to waitUntil below goes
    // to the binding untraced, as it may end after the request's span does.
    const db = drizzle(requestD1(c));
    const limiter = new LoginLimiter(db);
    const untraced = drizzle(c.env.DB);
    const log = c.get('log');
    const nowMs = Date.now();
    // Fails before any work: a misconfigured key is a 500 here, not after a password check.
    usersConfig(c.env);

    const byIp = await limiter.hit(`ip:${clientIp(c)}`, LOGIN_LIMITS.ip, nowMs);
    if (!byIp.allowed) {
      log.warn('login refused: too many attempts from this address', { scope: 'ip', attempts: byIp.count });
      throw tooManyAttempts(byIp);
    }
    const accountKey = `account:${email}`;
    const byAccount = await limiter.hit(accountKey, LOGIN_LIMITS.account, nowMs);
    if (!byAccount.allowed) {
      log.warn('login refused: too many attempts for this account', { scope: 'account', attempts: byAccount.count });
      throw tooManyAttempts(byAccount);
    }
    c.executionCtx.waitUntil(
      new LoginLimiter(untraced).prune(nowMs, Math.max(LOGIN_LIMITS.ip.windowMs, LOGIN_LIMITS.account.windowMs)).catch((error: unknown) => log.warn('login counters not pruned', { error })),
    );

    const users = new UserRepository(db);
    const user = await users.byEmail(email);
    // An unknown email is checked against a dummy hash: the same PBKDF2 work as a wrong password.
    const matches = await verifyPassword(password, user?.passwordHash ?? DUMMY_PASSWORD_HASH);
    if (!user || !matches) {
      log.info('login failed', { userId: user?.id });
      throw invalidCredentials();
    }

    await limiter.clear(accountKey);
    if (needsRehash(user.passwordHash)) {
      const verified = user.passwordHash;
      c.executionCtx.waitUntil(
        hashPassword(password)
          .then((upgraded) => new UserRepository(untraced).upgradePasswordHash(user.id, verified, upgraded))
          .catch((error: unknown) => log.warn('password hash not upgraded', { userId: user.id, error })),
      );
    }

    const refresh = await newRefreshToken(nowMs);
    const familyId = `rtf_${crypto.randomUUID().replace(/-/g, '')}`;
    await new RefreshTokenRepository(requestD1(c)).startFamily(familyId, user.id, refresh);
    log.info('login succeeded', { userId: user.id, familyId });
    return c.json(await tokenPair(c, user, refresh.token, nowMs), 200, NO_STORE);
  })
  .post('/refresh', validate('json', refreshInput), async (c) => {
    const tokens = new RefreshTokenRepository(requestD1(c));
    const log = c.get('log');
    const nowMs = Date.now();
    usersConfig(c.env);

    const presented = await hashRefreshToken(c.req.valid('json').refreshToken);
    const next = await newRefreshToken(nowMs);
    const spent = await tokens.rotate(presented, next, nowMs);
    if (!spent) {
      // Nothing was spent. If the token had been spent before, someone holds a copy of it (or
      // lost a race with its holder): either way the whole family is no longer trusted.
      const found = await tokens.inspect(presented);
      if (found?.spent && (await tokens.revokeFamily(found.familyId, 'reuse'))) {
        log.warn('refresh token reused: family revoked', { userId: found.userId, familyId: found.familyId });
      }
      throw invalidRefreshToken();
    }

    const user = await new UserRepository(drizzle(requestD1(c))).get(spent.userId);
    if (!user) throw invalidRefreshToken();
    return c.json(await tokenPair(c, user, next.token, nowMs), 200, NO_STORE);
  })
  .post('/logout', validate('json', refreshInput), async (c) => {
    const tokens = new RefreshTokenRepository(requestD1(c));
    const familyId = await tokens.revokeFamilyOfToken(await hashRefreshToken(c.req.valid('json').refreshToken), 'logout');
    if (familyId) c.get('log').info('logged out: family revoked', { familyId });
    // The same answer for an unknown token: logout reveals nothing and is safe to repeat.
    return c.body(null, 204);
  });
