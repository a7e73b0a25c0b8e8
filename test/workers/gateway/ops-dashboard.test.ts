import { env } from 'cloudflare:workers';
import { afterEach, describe, expect, it } from 'vitest';
import gateway from '../../../workers/gateway/index';
import type { OpsMetrics } from '../../../workers/gateway/ops/ops-metrics';
import { callWorker, ownAddress, testEnv } from '../../support/call-worker';
import { asGateway } from '../../support/service-token';

const admin = { authorization: 'Bearer test-admin-token' };

describe('the ops dashboard page (GET /_ops)', () => {
  it('is served without a token, as HTML that may run only its own scripts', async () => {
    const response = await callWorker(gateway, '/_ops');
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('text/html');
    const csp = response.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("connect-src 'self'");
    const html = await response.text();
    expect(html).toContain('<script type="module" src="/_ops/ui/dashboard.js">');
    // The shell carries no data: no token, no state, only the sign-in form and empty panels.
    expect(html).not.toContain('test-admin-token');
    expect(html).toContain('id="login"');
  });

  it('serves its scripts and uPlot from the static assets, as JavaScript', async () => {
    // trace-layout.js too: the Traces panel imports the same layout the gateway's trace page uses.
    for (const file of ['dashboard.js', 'traffic-panel.js', 'traces-panel.js', 'trace-layout.js', 'vendor/uPlot.esm.js']) {
      const response = await callWorker(gateway, `/_ops/ui/${file}`);
      expect(response.status, file).toBe(200);
      expect(response.headers.get('content-type'), file).toMatch(/javascript/);
    }
    // Its type declarations are for the TypeScript beside it, never served.
    expect((await callWorker(gateway, '/_ops/ui/trace-layout.d.ts')).status).toBe(404);
    const uplot = await (await callWorker(gateway, '/_ops/ui/vendor/uPlot.esm.js')).text();
    expect(uplot).toContain('export { uPlot as default }');
  });

  it('answers a file that is not there, or a path that climbs out, with a problem+json 404', async () => {
    for (const path of ['/_ops/ui/nothing.js', '/_ops/ui/..%2F..%2Fwrangler.toml', '/_ops/ui/a/b/c.js']) {
      const response = await callWorker(gateway, path);
      expect(response.status, path).toBe(404);
      expect(response.headers.get('content-type'), path).toContain('application/problem+json');
    }
  });

  it('serves its HTML only as the page, and every file under the page\'s policy', async () => {
    // index.html is a file of the folder, but only `/_ops` serves it (with the policy).
    for (const path of ['/_ops/ui/index.html', '/_ops/ui/INDEX.HTM']) {
      const response = await callWorker(gateway, path);
      expect(response.status, path).toBe(404);
      expect(response.headers.get('content-type'), path).toContain('application/problem+json');
    }
    const page = (await callWorker(gateway, '/_ops')).headers.get('content-security-policy');
    for (const file of ['dashboard.js', 'dashboard.css', 'vendor/uPlot.esm.js']) {
      expect((await callWorker(gateway, `/_ops/ui/${file}`)).headers.get('content-security-policy'), file).toBe(page);
    }
  });

  it('leaves every data endpoint behind the admin token', async () => {
    const from = { 'cf-connecting-ip': ownAddress() };
    for (const path of ['/_ops/breakers', '/_ops/metrics', '/_ops/chaos', '/_ops/routes', '/_ops/sagas', '/_ops/dlq', '/_ops/traces', `/_ops/traces/${'a'.repeat(32)}`]) {
      const response = await callWorker(gateway, path);
      expect(response.status, path).toBe(401);
      expect(response.headers.get('www-authenticate'), path).toContain('Bearer');
      const wrong = await callWorker(gateway, path, { headers: { authorization: 'Bearer not-the-token', ...from } });
      expect(wrong.status, path).toBe(401);
    }
  });
});

describe('GET /_ops/metrics', () => {
  const read = async () => (await (await callWorker(gateway, '/_ops/metrics', { headers: admin })).json()) as OpsMetrics;
  const catalog = (m: OpsMetrics) => m.routes.find((r) => r.service === 'catalog' && r.route === '/api/catalog/*');

  it('counts each route’s requests and latencies, totals across isolates, never cached', async () => {
    const before = await read();
    await callWorker(gateway, '/api/catalog/products?limit=1');
    await callWorker(gateway, '/api/catalog/products?limit=2');
    await callWorker(gateway, '/api/catalog/products/prod_missing_dash');
    const response = await callWorker(gateway, '/_ops/metrics', { headers: admin });
    expect(response.headers.get('cache-control')).toBe('no-store');
    const after = (await response.json()) as OpsMetrics;

    expect((catalog(after)?.requests ?? 0) - (catalog(before)?.requests ?? 0)).toBe(3);
    const duration = catalog(after)?.durationSeconds;
    expect((duration?.count ?? 0) - (catalog(before)?.durationSeconds.count ?? 0)).toBe(3);
    expect(duration?.counts.reduce((a, b) => a + b, 0)).toBe(duration?.count);
    expect(Date.parse(after.at)).toBeGreaterThanOrEqual(Date.parse(before.at));
  });

  it('counts the operator endpoints (the dashboard’s own polling) as one route of their own', async () => {
    const ops = (m: OpsMetrics) => m.routes.find((r) => r.service === 'gateway' && r.route === '/_ops/*')?.requests ?? 0;
    const before = await read();
    await callWorker(gateway, '/_ops/breakers', { headers: admin });
    await callWorker(gateway, '/_ops/routes', { headers: admin });
    // The read itself is counted once it has answered: `before`'s own read shows up in `after`.
    expect(ops(await read()) - ops(before)).toBe(3);
  });

  it('gives the catalog’s cache hit ratio and rate-limit decisions', async () => {
    await callWorker(gateway, '/api/catalog/products?limit=3');
    await callWorker(gateway, '/api/catalog/products?limit=3');
    const metrics = await read();
    const cache = metrics.cache.find((r) => r.route === '/api/catalog/*');
    expect(cache?.hit).toBeGreaterThanOrEqual(1);
    expect(cache?.miss).toBeGreaterThanOrEqual(1);
    expect(cache?.hitRatio).toBeCloseTo(((cache?.hit ?? 0) + (cache?.stale ?? 0)) / ((cache?.hit ?? 0) + (cache?.stale ?? 0) + (cache?.miss ?? 0)));
    const limits = metrics.rateLimits.find((r) => r.route === '/api/catalog/*');
    expect(limits?.allowed).toBeGreaterThanOrEqual(2);
    expect(limits?.refusedRatio).toBe((limits?.refused ?? 0) / ((limits?.allowed ?? 0) + (limits?.refused ?? 0) + (limits?.error ?? 0)));
  });
});

describe('GET /_ops/chaos', () => {
  afterEach(async () => {
    await env.CATALOG.fetch('https://catalog.internal/_chaos', { method: 'DELETE', headers: await asGateway('catalog', null, { scope: 'ops' }) });
  });

  it('lists every service’s chaos settings, null where there are none', async () => {
    const gw = testEnv({ ALLOW_CHAOS: 'true' });
    const put = await callWorker(gateway, '/_ops/chaos/catalog', { method: 'PUT', headers: { ...admin, 'content-type': 'application/json' }, body: JSON.stringify({ failureRate: 0.5 }) }, gw);
    expect(put.status).toBe(200);
    const response = await callWorker(gateway, '/_ops/chaos', { headers: admin }, gw);
    expect(response.status).toBe(200);
    const chaos = (await response.json()) as Record<string, unknown>;
    expect(chaos.catalog).toEqual({ failureRate: 0.5, status: 503, latencyMs: 0, hang: false });
    expect(chaos['catalog-canary']).toBeNull();
    expect(Object.keys(chaos)).toEqual(expect.arrayContaining(['catalog', 'catalog-canary', 'orders', 'payments', 'users', 'ledger']));
  });

  it('is refused where chaos is not allowed', async () => {
    const response = await callWorker(gateway, '/_ops/chaos', { headers: admin });
    expect(response.status).toBe(403);
  });
});
