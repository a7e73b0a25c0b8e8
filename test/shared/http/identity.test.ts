import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import { requireOps, requireRole, requireSignedIn, type Identity } from '../../../shared/http/identity';
import { isHttpError } from '../../../shared/http/problem';
import type { AppEnv } from '../../../shared/middleware/app-env';
import type { ServiceClaims } from '../../../shared/security/service-token';

describe('requireRole', () => {
  /** An app whose identity is what the service-token check would have put on the context. */
  const appWith = (identity: Identity | null | undefined) => {
    const app = new Hono<AppEnv>();
    app.onError((error, c) => (isHttpError(error) ? c.json({ status: error.status, headers: error.headers }, 200) : c.text('unexpected', 500)));
    app.use(async (c, next) => {
      if (identity !== undefined) c.set('identity', identity);
      await next();
    });
    app.get('/admin', requireRole('admin'), (c) => c.text('ok'));
    return app;
  };

  it('refuses a request without an identity with 401 and a Bearer challenge', async () => {
    for (const identity of [undefined, null]) {
      const response = await appWith(identity).request('/admin');
      expect(await response.json()).toEqual({ status: 401, headers: { 'www-authenticate': 'Bearer' } });
    }
  });

  it('refuses an identity without the exact role with 403', async () => {
    const response = await appWith({ userId: 'u1', roles: ['viewer', 'administrator'] }).request('/admin');
    expect(await response.json()).toMatchObject({ status: 403 });
  });

  it('lets an identity with the role through', async () => {
    const response = await appWith({ userId: 'u1', roles: ['viewer', 'admin'] }).request('/admin');
    expect(response.status).toBe(200);
    expect(await response.text()).toBe('ok');
  });

  it('never reads identity from request headers', async () => {
    const response = await appWith(undefined).request('/admin', { headers: { 'x-stratus-user-id': 'u1', 'x-stratus-user-roles': 'admin' } });
    expect(await response.json()).toMatchObject({ status: 401 });
  });
});

describe('requireSignedIn and requireOps', () => {
  const appWith = (identity?: Identity, caller?: ServiceClaims) => {
    const app = new Hono<AppEnv>();
    app.onError((error, c) => (isHttpError(error) ? c.json({ status: error.status, headers: error.headers, detail: error.detail }, 200) : c.text('unexpected', 500)));
    app.use(async (c, next) => {
      if (identity) c.set('identity', identity);
      if (caller) c.set('caller', caller);
      await next();
    });
    app.get('/mine', requireSignedIn, (c) => c.text('ok'));
    app.get('/ops', requireOps('For operators.'), (c) => c.text('ok'));
    return app;
  };
  const service = (scope?: 'ops'): ServiceClaims => ({ service: 'ledger', roles: [], ...(scope ? { scope } : {}) });

  it('requireSignedIn: 401 with a Bearer challenge without an identity, any identity passes', async () => {
    expect(await (await appWith().request('/mine')).json()).toMatchObject({ status: 401, headers: { 'www-authenticate': 'Bearer' } });
    expect(await (await appWith(undefined, service('ops')).request('/mine')).json()).toMatchObject({ status: 401 });
    expect(await (await appWith({ userId: 'u1', roles: [] }).request('/mine')).text()).toBe('ok');
  });

  it('requireOps: the ops scope or an admin pass; a customer, a plain service call or nobody is 403 with the detail', async () => {
    expect(await (await appWith(undefined, service('ops')).request('/ops')).text()).toBe('ok');
    expect(await (await appWith({ userId: 'root', roles: ['admin'] }).request('/ops')).text()).toBe('ok');
    for (const app of [appWith({ userId: 'u1', roles: ['customer'] }), appWith(undefined, service()), appWith()]) {
      expect(await (await app.request('/ops')).json()).toMatchObject({ status: 403, detail: 'For operators.' });
    }
  });
});
