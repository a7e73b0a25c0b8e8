import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import { IDENTITY_HEADERS, identityFrom, requireRole } from '../../../shared/http/identity';
import { isHttpError } from '../../../shared/http/problem';

describe('identityFrom', () => {
  it('is null without a user id', () => {
    expect(identityFrom(new Headers())).toBeNull();
    expect(identityFrom(new Headers({ [IDENTITY_HEADERS.roles]: 'admin' }))).toBeNull();
  });

  it('reads the user id and a trimmed role list without empty entries', () => {
    const headers = new Headers({ [IDENTITY_HEADERS.userId]: 'u1', [IDENTITY_HEADERS.roles]: ' admin, ,viewer,' });
    expect(identityFrom(headers)).toEqual({ userId: 'u1', roles: ['admin', 'viewer'] });
  });

  it('has no roles when the roles header is missing', () => {
    expect(identityFrom(new Headers({ [IDENTITY_HEADERS.userId]: 'u1' }))).toEqual({ userId: 'u1', roles: [] });
  });
});

describe('requireRole', () => {
  const app = new Hono();
  app.onError((error, c) => (isHttpError(error) ? c.json({ status: error.status, headers: error.headers }, 200) : c.text('unexpected', 500)));
  app.get('/admin', requireRole('admin'), (c) => c.text('ok'));

  it('refuses a request without an identity with 401 and a Bearer challenge', async () => {
    const response = await app.request('/admin');
    expect(await response.json()).toEqual({ status: 401, headers: { 'www-authenticate': 'Bearer' } });
  });

  it('refuses an identity without the role with 403', async () => {
    const response = await app.request('/admin', { headers: { [IDENTITY_HEADERS.userId]: 'u1', [IDENTITY_HEADERS.roles]: 'viewer,administrator' } });
    expect(await response.json()).toMatchObject({ status: 403 });
  });

  it('lets an identity with the role through', async () => {
    const response = await app.request('/admin', { headers: { [IDENTITY_HEADERS.userId]: 'u1', [IDENTITY_HEADERS.roles]: 'viewer, admin' } });
    expect(response.status).toBe(200);
    expect(await response.text()).toBe('ok');
  });
});
