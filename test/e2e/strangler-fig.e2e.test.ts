import { describe, expect, inject, it } from 'vitest';
import { legacyOriginPools } from '../../scripts/legacy-monolith.mjs';
import gateway from '../../workers/gateway/index';
import { callWorker, json, testEnv } from '../support/call-worker';

const operator = { authorization: 'Bearer test-admin-token' };

/** The gateway with the legacy monolith (started in Node by the project's globalSetup) as its `legacy` pool. */
const withMonolith = testEnv({ ORIGIN_POOLS: legacyOriginPools(inject('origins').legacy), ORIGIN_HEALTH_REFRESH_MS: '0' });
const call = (path: string, init: RequestInit = {}) => callWorker(gateway, path, init, withMonolith);

describe('the strangler fig: the legacy monolith behind the gateway, /api/users carved out', () => {
  it('answers / and the paths the monolith still owns from the monolith', async () => {
    const home = await call('/', { headers: { 'x-request-id': 'strangler-1' } });
    expect(home.status).toBe(200);
    expect(home.headers.get('x-served-by')).toBe('legacy');
    // The request id reached the monolith, and comes back from the gateway.
    expect(await home.json()).toMatchObject({ app: 'stratus legacy monolith', requestId: 'strangler-1' });
    expect(home.headers.get('x-request-id')).toBe('strangler-1');

    const stores = await call('/api/stores');
    expect(stores.status).toBe(200);
    expect(stores.headers.get('x-served-by')).toBe('legacy');
    expect(await stores.json()).toMatchObject({ stores: [{ store_code: 'BER-01' }, { store_code: 'LIS-02' }] });

    const subscribed = await call('/api/newsletter', json({ email: 'ada@example.com' }));
    expect(subscribed.status).toBe(201);
    expect(subscribed.headers.get('x-served-by')).toBe('legacy');
    // The monolith's own 404 for what it does not have either.
    const missing = await call('/no/such/page');
    expect(missing.status).toBe(404);
    expect(missing.headers.get('x-served-by')).toBe('legacy');
  });

  it('answers /api/users/* from the users worker, not the old users API', async () => {
    const login = await call('/api/users/login', json({ email: 'demo@example.com', password: 'demo-password-123' }, { 'cf-connecting-ip': '203.0.113.77' }));
    expect(login.status).toBe(200);
    expect(login.headers.get('x-served-by')).toBe('users');
    const { accessToken } = (await login.json()) as { accessToken: string };
    const me = await call('/api/users/me', { headers: { authorization: `Bearer ${accessToken}` } });
    expect(me.status).toBe(200);
    expect(me.headers.get('x-served-by')).toBe('users');
    expect(await me.json()).toMatchObject({ email: 'demo@example.com' });
    // The monolith's old users API has /api/users/1; through the gateway that path is the worker's.
    const old = await call('/api/users/1');
    expect(old.headers.get('x-served-by')).toBe('users');
    expect(old.status).not.toBe(200);
  });

  it("keeps the gateway's own endpoints its own: the monolith is the fallback only", async () => {
    const health = await call('/health');
    expect(await health.json()).toEqual({ status: 'ok' });
    expect(health.headers.get('x-served-by')).toBeNull();
    expect((await call('/openapi.json')).headers.get('content-type')).toContain('application/json');
    expect((await call('/metrics')).headers.get('content-type')).toContain('text/plain');
    expect((await call('/_ops/no-such-thing')).status).toBe(401);
    const underOps = await call('/_ops/no-such-thing', { headers: operator });
    expect(underOps.status).toBe(404);
    expect(underOps.headers.get('x-served-by')).toBeNull();
    const hook = await call('/hooks/no-such-consumer', { method: 'POST' });
    expect(hook.status).toBe(404);
    expect(hook.headers.get('x-served-by')).toBeNull();
  });

  it('shows the monolith in /_ops/origins, checked by the gateway cron', async () => {
    const cron = await call('/_ops/crons/gateway', { method: 'POST', headers: { ...operator, 'content-type': 'application/json' }, body: '{}' });
    expect(cron.status).toBe(200);
    await call('/about');
    const view = await call('/_ops/origins', { headers: operator });
    expect(view.status).toBe(200);
    const body = (await view.json()) as Record<string, { prefix: string; balancer: string; origins: { name: string; healthy: boolean; check: { status: string } | null; requests: number; share: number | null }[] }>;
    expect(body.legacy).toMatchObject({ prefix: '/', balancer: 'round-robin' });
    const [monolith] = body.legacy!.origins;
    expect(monolith).toMatchObject({ name: 'monolith', healthy: true, check: { status: 'up' }, share: 1 });
    expect(monolith!.requests).toBeGreaterThan(0);
  });

  it('without a monolith configured, / and unknown paths are the 404 they were', async () => {
    const response = await callWorker(gateway, '/');
    expect(response.status).toBe(404);
    expect(response.headers.get('content-type')).toBe('application/problem+json');
  });
});
