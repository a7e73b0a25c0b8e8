import { env } from 'cloudflare:workers';
import { beforeEach, describe, expect, it } from 'vitest';
import { callWorker } from '../../support/call-worker';
import { count, PASSWORD, post, problemOf, resetDatabase, users } from './support';

beforeEach(resetDatabase);

const registerBody = (overrides: Record<string, unknown> = {}) => ({ email: 'ann@example.com', password: PASSWORD, ...overrides });

describe('POST /register', () => {
  it('creates a customer: 201 with {id, email}, nothing else', async () => {
    const response = await post('/register', registerBody({ name: 'Ann' }));
    expect(response.status).toBe(201);
    const body = await response.json();
    expect(body).toEqual({ id: expect.stringMatching(/^usr_[0-9a-f]{32}$/), email: 'ann@example.com' });
    const row = await env.DB.prepare('SELECT email, name, roles FROM users').first();
    expect(row).toEqual({ email: 'ann@example.com', name: 'Ann', roles: '["customer"]' });
  });

  it('stores the email trimmed and lower-cased', async () => {
    const response = await post('/register', registerBody({ email: '  Ann.Lee@Example.COM ' }));
    expect(response.status).toBe(201);
    expect(((await response.json()) as { email: string }).email).toBe('ann.lee@example.com');
    expect(await count('users', 'email = ?', 'ann.lee@example.com')).toBe(1);
  });

  it('accepts a password of exactly 12 characters, and no name', async () => {
    const response = await post('/register', registerBody({ password: 'x'.repeat(12) }));
    expect(response.status).toBe(201);
    expect(await env.DB.prepare('SELECT name FROM users').first('name')).toBeNull();
  });

  it('409s for an email already registered, in any letter case; the first account is kept', async () => {
    expect((await post('/register', registerBody())).status).toBe(201);
    for (const email of ['ann@example.com', 'ANN@example.com', ' Ann@Example.Com']) {
      const response = await post('/register', registerBody({ email, password: 'another password!' }));
      expect(response.status).toBe(409);
      expect((await problemOf(response)).type).toBe('/problems/conflict');
    }
    expect(await count('users')).toBe(1);
  });

  it('10 concurrent registrations of one email (mixed case): exactly one account', async () => {
    const emails = Array.from({ length: 10 }, (_, i) => (i % 2 ? 'RACE@example.com' : 'race@EXAMPLE.com'));
    const responses = await Promise.all(emails.map((email) => post('/register', registerBody({ email }))));
    expect(responses.filter((r) => r.status === 201)).toHaveLength(1);
    expect(responses.filter((r) => r.status === 409)).toHaveLength(9);
    expect(await count('users')).toBe(1);
  });
});

describe('invalid registrations are 400 with field errors and write nothing', () => {
  it.each([
    ['an email without @', { email: 'ann.example.com' }, 'email'],
    ['an email without a domain', { email: 'ann@' }, 'email'],
    ['an empty email', { email: '' }, 'email'],
    ['an email of 255 characters', { email: `${'a'.repeat(243)}@example.com` }, 'email'],
    ['no email', { email: undefined }, 'email'],
    ['a password of 11 characters', { password: 'x'.repeat(11) }, 'password'],
    ['a password of 257 characters', { password: 'x'.repeat(257) }, 'password'],
    ['no password', { password: undefined }, 'password'],
    ['a password that is not a string', { password: 123456789012345 }, 'password'],
    ['an empty name', { name: '   ' }, 'name'],
    ['a name of 101 characters', { name: 'n'.repeat(101) }, 'name'],
    ['roles chosen by the client', { roles: ['admin'] }, '(root)'],
  ])('%s', async (_, overrides, field) => {
    const response = await post('/register', registerBody(overrides));
    expect(response.status).toBe(400);
    const problem = await problemOf(response);
    expect(problem.type).toBe('/problems/validation-failed');
    expect(problem.errors?.map((e) => e.path)).toContain(field);
    expect(await count('users')).toBe(0);
  });

  it('never echoes the password in the error', async () => {
    const response = await post('/register', registerBody({ password: 'short-pw' }));
    expect(response.status).toBe(400);
    expect(await response.text()).not.toContain('short-pw');
  });

  it('malformed JSON is a 400 problem', async () => {
    const response = await callWorker(users, '/register', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"email":' });
    expect(response.status).toBe(400);
    await problemOf(response);
    expect(await count('users')).toBe(0);
  });
});
