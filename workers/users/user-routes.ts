import { Hono } from 'hono';
import { drizzle } from 'drizzle-orm/d1';
import type { Context } from 'hono';
import { requestD1 } from '../../shared/adapters/cloudflare/traced-d1';
import { conflict, notFound, unauthorized } from '../../shared/http/problem';
import type { AppEnv } from '../../shared/middleware/app-env';
import { validate } from '../../shared/validation/validate';
import type { UsersBindings } from './env';
import { hashPassword } from './password';
import { UserRepository } from './user-repository';
import { registerInput, toProfile } from './user-schemas';

/** The repository over the request's D1: each query a span of the request (traced-d1.ts). */
const repository = (c: Context<AppEnv<UsersBindings>>) => new UserRepository(drizzle(requestD1(c)));

/** Every new account starts as a customer; other roles are granted, never chosen at sign-up. */
export const DEFAULT_ROLES = ['customer'];

export const userRoutes = new Hono<AppEnv<UsersBindings>>()
  .post('/register', validate('json', registerInput), async (c) => {
    const { email, password, name } = c.req.valid('json');
    const row = await repository(c).insert({
      id: `usr_${crypto.randomUUID().replace(/-/g, '')}`,
      email,
      name: name ?? null,
      passwordHash: await hashPassword(password),
      roles: DEFAULT_ROLES,
    });
    if (!row) throw conflict('An account with this email already exists.');
    c.get('log').info('user registered', { userId: row.id });
    return c.json({ id: row.id, email: row.email }, 201);
  })
  // Who calls is what the gateway's service token says (verified by createServiceApp before any
  // route runs): the subject of the caller's access token, as the gateway checked it.
  .get('/me', async (c) => {
    const identity = c.get('identity');
    if (!identity) throw unauthorized('Authentication is required.', { 'www-authenticate': 'Bearer' });
    const row = await repository(c).get(identity.userId);
    if (!row) throw notFound('The authenticated user no longer exists.');
    return c.json(toProfile(row), 200, { 'cache-control': 'no-store' });
  });
