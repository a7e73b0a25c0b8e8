import { createRoute } from '@hono/zod-openapi';
import { z } from 'zod';
import { emptyResponse, header, jsonBody, jsonResponse, problemResponse, validationProblem } from '../../shared/openapi/describe';
import { JWKS_PATH } from './jwks-routes';
import { loginInput, refreshInput, registerInput } from './user-schemas';
import { describesExactly, type SameShape } from '../../shared/openapi/same-type';
import type { Profile } from './user-schemas';

/**
 * The users service's public routes as OpenAPI, at its own paths (`/register`): the gateway maps
 * them to `/api/users/...` (and the JWKS to itself) and adds its edge policy
 * (workers/gateway/openapi). Requests are described by the schemas the handlers validate with.
 */

const tokenPair = z.strictObject({
  accessToken: z.string().describe('ES256 JWT with `kid`; `iss`, `aud`, `sub`, `exp`, `iat`, `jti`, `roles`.'),
  refreshToken: z.string().describe('Opaque; single use: refreshing spends it.'),
  tokenType: z.literal('Bearer'),
  expiresIn: z.number().int().describe('Seconds the access token is valid for (900).'),
});

const tokenPairExample = {
  accessToken: 'eyJhbGciOiJFUzI1NiIsImtpZCI6ImRldi1hY2Nlc3MtdG9rZW4ifQ.eyJzdWIiOiJ1c3JfZGVtbyJ9.c2lnbmF0dXJl',
  refreshToken: 'rt_5f0c8e1a9b2d4c7e8f6a3b1d0e9c8b7a',
  tokenType: 'Bearer' as const,
  expiresIn: 900,
};

/** GET /me (user-schemas.ts `Profile`). */
export const profileView = z.strictObject({ id: z.string(), email: z.email(), name: z.string().nullable(), roles: z.array(z.string()), createdAt: z.iso.datetime() });
export const profileExample = { id: 'usr_demo', email: 'demo@example.com', name: 'Demo', roles: ['admin', 'customer'], createdAt: '2026-11-01T09:00:00.000Z' };

const noStore = { 'Cache-Control': { ...header.cacheControl, example: 'no-store' } };
const badToken = problemResponse(401, 'The refresh token is unknown, expired, already used or revoked (a reused one revokes its whole family).', 'The refresh token is not valid: unknown, expired, already used or revoked. Log in again.', {
  'WWW-Authenticate': header.wwwAuthenticate,
});

export const usersApi = [
  createRoute({
    method: 'post',
    path: '/register',
    summary: 'Create an account',
    request: { body: jsonBody(registerInput, { email: 'ann@example.com', password: 'correct horse battery', name: 'Ann' }) },
    responses: {
      201: jsonResponse('The account.', z.strictObject({ id: z.string(), email: z.email() }), { id: 'usr_0a1b2c3d', email: 'ann@example.com' }),
      400: problemResponse(400, 'An invalid email, or a password under 12 characters.', validationProblem([{ path: 'password', message: 'must be at least 12 characters' }])),
      409: problemResponse(409, 'The email is taken.', 'An account with this email already exists.'),
    },
  }),
  createRoute({
    method: 'post',
    path: '/login',
    summary: 'Log in',
    description: 'Limited per address and per account besides the route\'s rate limit (429 `too-many-login-attempts`).',
    request: { body: jsonBody(loginInput, { email: 'demo@example.com', password: 'demo-password-123' }) },
    responses: {
      200: jsonResponse('An access and a refresh token.', tokenPair, tokenPairExample, noStore),
      401: problemResponse(401, 'Unknown email or wrong password: the same answer for both.', 'The email or password is incorrect.', { 'WWW-Authenticate': header.wwwAuthenticate }),
      429: problemResponse(429, 'Too many login attempts from this address or for this account.', 'Too many login attempts; try again later.', { 'Retry-After': header.retryAfter }),
    },
  }),
  createRoute({
    method: 'post',
    path: '/refresh',
    summary: 'Trade a refresh token for a new pair',
    request: { body: jsonBody(refreshInput, { refreshToken: tokenPairExample.refreshToken }) },
    responses: { 200: jsonResponse('A new pair; the old refresh token is spent.', tokenPair, tokenPairExample, noStore), 401: badToken },
  }),
  createRoute({
    method: 'post',
    path: '/logout',
    summary: 'Log out',
    description: 'Revokes the refresh token\'s family. The same answer for an unknown token: safe to repeat.',
    request: { body: jsonBody(refreshInput, { refreshToken: tokenPairExample.refreshToken }) },
    responses: { 204: emptyResponse('Logged out.') },
  }),
  createRoute({
    method: 'get',
    path: '/me',
    summary: 'The caller\'s profile',
    responses: {
      200: jsonResponse('The profile.', profileView, profileExample, noStore),
      401: problemResponse(401, 'No access token.', 'Authentication is required.', { 'WWW-Authenticate': header.wwwAuthenticate }),
      404: problemResponse(404, 'The account was deleted.', 'The authenticated user no longer exists.'),
    },
  }),
  createRoute({
    method: 'get',
    path: JWKS_PATH,
    summary: 'Keys that verify access tokens',
    description: 'The current key first, then earlier ones still trusted; cache for 5 minutes, refetch on an unknown `kid`.',
    responses: {
      200: jsonResponse(
        'A JWK set (RFC 7517).',
        z.strictObject({ keys: z.array(z.looseObject({ kty: z.string(), kid: z.string(), alg: z.string().optional(), use: z.string().optional() })) }),
        { keys: [{ kty: 'EC', crv: 'P-256', kid: 'dev-access-token', alg: 'ES256', use: 'sig', x: 'f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU', y: 'x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0' }] },
        { 'Cache-Control': { ...header.cacheControl, example: 'public, max-age=300' } },
      ),
    },
  }),
];

// The answers' schemas are exactly the handlers' types (shared/openapi/same-type.ts).
describesExactly<SameShape<z.output<typeof profileView>, Profile>>();
