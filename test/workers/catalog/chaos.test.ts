import { afterEach, describe, expect, it } from 'vitest';
import catalogWorker from '../../../workers/catalog/index';
import { viaGateway, testUser } from '../../support/service-token';

const catalog = viaGateway(catalogWorker, 'catalog');
import { callWorker } from '../../support/call-worker';

// What the gateway's ops calls carry: a service token with the ops scope.
const fromGateway = { 'x-test-scope': 'ops' };
const put = (body: unknown) =>
  callWorker(catalog, '/_chaos', { method: 'PUT', headers: { ...fromGateway, 'content-type': 'application/json' }, body: JSON.stringify(body) });
const read = async () => (await callWorker(catalog, '/_chaos', { headers: fromGateway })).json();

afterEach(async () => {
  expect((await callWorker(catalog, '/_chaos', { method: 'DELETE', headers: fromGateway })).status).toBe(204);
});

describe('chaos inside the catalog service', () => {
  it('fails every request with the chosen status at failureRate 1, but never the health probes', async () => {
    const set = await put({ failureRate: 1, status: 500 });
    expect(await set.json()).toEqual({ chaos: { failureRate: 1, status: 500, latencyMs: 0, hang: false } });
    const response = await callWorker(catalog, '/products');
    expect(response.status).toBe(500);
    expect(await response.json()).toMatchObject({ type: '/problems/chaos', status: 500 });
    expect((await callWorker(catalog, '/health')).status).toBe(200);
    expect((await callWorker(catalog, '/ready')).status).toBe(200);
  });

  it('is gone after DELETE, and the settings read back', async () => {
    await put({ failureRate: 1 });
    expect(((await read()) as { chaos: unknown }).chaos).toMatchObject({ failureRate: 1, status: 503 });
    expect((await callWorker(catalog, '/products')).status).toBe(503);
    await callWorker(catalog, '/_chaos', { method: 'DELETE', headers: fromGateway });
    expect((await callWorker(catalog, '/products')).status).toBe(200);
    expect(await read()).toEqual({ chaos: null });
  });

  it('adds latency to every request without failing it', async () => {
    await put({ failureRate: 0, latencyMs: 150 });
    const started = Date.now();
    const response = await callWorker(catalog, '/products');
    expect(response.status).toBe(200);
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
  });

  it('refuses settings that are not valid with a 400 problem and keeps the old ones', async () => {
    for (const bad of [{ failureRate: 100 }, { failureRate: -0.1 }, { failureRate: 1, status: 200 }, { failureRate: 1, extra: true }, {}, 'x']) {
      const response = await put(bad);
      expect(response.status).toBe(400);
      expect(response.headers.get('content-type')).toBe('application/problem+json');
    }
    expect(await read()).toEqual({ chaos: null });
  });

  it('does not answer on its switch without an ops-scoped service token', async () => {
    const response = await callWorker(catalog, '/_chaos', { method: 'PUT', headers: { 'content-type': 'application/json' }, body: '{"failureRate":1}' });
    expect(response.status).toBe(404);
    expect((await callWorker(catalog, '/_chaos')).status).toBe(404);
    expect(await read()).toEqual({ chaos: null });
  });
});
