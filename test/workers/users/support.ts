import { env } from 'cloudflare:workers';
import { createLocalJWKSet, jwtVerify, type JWTPayload } from 'jose';
import usersWorker from '../../../workers/users/index';
import { callWorker, json } from '../../support/call-worker';
import { testUser, viaGateway } from '../../support/service-token';

/** The users worker as the gateway reaches it: every call carries a service token. */
export const users = viaGateway(usersWorker, 'users');

/**
 * THE way a test names the end user a call is made for (the gateway's service token carries it).
 * Every identity in these tests goes through here, so a change in how identity reaches a service
 * is one edit.
 */
export const asUser = (id: string, ...roles: string[]): Record<string, string> => testUser(id, ...roles);

export const ISSUER = 'stratus-users';
export const AUDIENCE = 'stratus';
export const PASSWORD = 'correct horse battery';

import type { ProblemDetails } from '../../../shared/http/problem';
export type Problem = ProblemDetails;

export interface TokenPair {
  accessToken: string;
  refreshToken: string;
  tokenType: string;
  expiresIn: number;
}

/** Deletes every row, children first (foreign keys are enforced). */
export async function resetDatabase(): Promise<void> {
  await env.DB.batch(['refresh_tokens', 'refresh_families', 'users', 'login_attempts'].map((table) => env.DB.prepare(`DELETE FROM ${table}`)));
}

/** A JSON POST to the users worker, from `ip` (the cf-connecting-ip the gateway forwards). */
export function post(path: string, body: unknown, options: { ip?: string; headers?: Record<string, string>; bindings?: Partial<Cloudflare.Env> } = {}) {
  const headers = { ...(options.ip ? { 'cf-connecting-ip': options.ip } : {}), ...options.headers };
  return callWorker(users, path, json(body, headers), options.bindings);
}

export const get = (path: string, headers: Record<string, string> = {}, bindings?: Partial<Cloudflare.Env>) =>
  callWorker(users, path, { headers }, bindings);

let ipCounter = 0;
/** A client address no other test uses, so the per-IP limit never couples two tests. */
// Each in its own /64: the limiter counts an IPv6 caller by its /64 (shared/http/client-network.ts).
export const freshIp = () => `2001:db8:${(++ipCounter).toString(16)}::1`;

export async function register(email: string, password = PASSWORD, name?: string): Promise<{ id: string; email: string }> {
  const response = await post('/register', { email, password, ...(name ? { name } : {}) });
  if (response.status !== 201) throw new Error(`register failed: ${response.status} ${await response.text()}`);
  return response.json();
}

export const login = (email: string, password = PASSWORD, ip = freshIp()) => post('/login', { email, password }, { ip });

/** Logs in and returns the token pair (asserting the 200). */
export async function loginPair(email: string, password = PASSWORD): Promise<TokenPair> {
  const response = await login(email, password);
  if (response.status !== 200) throw new Error(`login failed: ${response.status} ${await response.text()}`);
  return response.json();
}

export const refresh = (refreshToken: string) => post('/refresh', { refreshToken });
export const logout = (refreshToken: string) => post('/logout', { refreshToken });

export async function jwks(): Promise<{ keys: Record<string, unknown>[] }> {
  const response = await get('/.well-known/jwks.json');
  if (response.status !== 200) throw new Error(`jwks failed: ${response.status}`);
  return response.json();
}

/** Verifies an access token as a relying party would: against the published JWKS, ES256 only. */
export async function verifyAccessToken(token: string) {
  const keySet = createLocalJWKSet((await jwks()) as Parameters<typeof createLocalJWKSet>[0]);
  return jwtVerify<JWTPayload & { roles: string[] }>(token, keySet, { algorithms: ['ES256'], issuer: ISSUER, audience: AUDIENCE });
}

export async function count(table: string, where = '1 = 1', ...params: unknown[]): Promise<number> {
  const row = await env.DB.prepare(`SELECT count(*) AS n FROM ${table} WHERE ${where}`)
    .bind(...params)
    .first<{ n: number }>();
  return row?.n ?? 0;
}

/** The problem body, after checking it is one. */
export async function problemOf(response: Response): Promise<Problem> {
  if (response.headers.get('content-type') !== 'application/problem+json') {
    throw new Error(`expected problem+json, got ${response.headers.get('content-type')}: ${await response.text()}`);
  }
  return response.json();
}
