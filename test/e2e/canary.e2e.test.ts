import { env } from 'cloudflare:workers';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { WeightedChoice, type VersionWeights } from '../../shared/routing/weighted-choice';
import gateway from '../../workers/gateway/index';
import { bearerFor } from '../support/access-token';
import { callWorker, ownAddress, testEnv } from '../support/call-worker';
import { asGateway } from '../support/service-token';

/**
 * Canary / blue-green routing end to end: the gateway in front of the real catalog (v1) and its
 * canary (v2, the same code deployed again on the same D1), weights changed through /_ops while
 * traffic flows, with real access tokens for signed-in callers.
 */

const operator = { authorization: 'Bearer test-admin-token' };
const PRODUCT = '/api/catalog/products/prod_canary_1';

const putWeights = (gw: Cloudflare.Env, body: unknown, headers: Record<string, string> = operator) =>
  callWorker(gateway, '/_ops/routes/catalog', { method: 'PUT', headers: { ...headers, 'content-type': 'application/json' }, body: typeof body === 'string' ? body : JSON.stringify(body) }, gw);
const routesNow = async (gw: Cloudflare.Env) => (await (await callWorker(gateway, '/_ops/routes', { headers: operator }, gw)).json()) as Record<string, { versions: string[]; weights: VersionWeights }>;
const expected = (weights: VersionWeights) => new WeightedChoice(weights, 'catalog');

/** What a caller's request was served by: `catalog@v1`, and the version the catalog itself says. */
async function served(gw: Cloudflare.Env, headers: Record<string, string>, path = PRODUCT) {
  const response = await callWorker(gateway, path, { headers }, gw);
  await response.body?.cancel();
  return { status: response.status, by: response.headers.get('x-served-by'), version: response.headers.get('x-service-version'), cookie: response.headers.get('set-cookie') };
}

/** Signed-in users, each with their own access token (as the users service issues them). */
const users = new Map<string, Record<string, string>>();
/** An anonymous visitor: its own address, so the per-address rate limit is its own too. */
const visitor = (n: number, cookie?: string) => ({ 'cf-connecting-ip': `198.51.100.${n}`, ...(cookie ? { cookie } : {}) });

beforeAll(async () => {
  await env.TEST_CATALOG_DB.exec(
    "INSERT OR IGNORE INTO products (id, name, description, price_cents, currency, stock) VALUES ('prod_canary_1', 'Canary Lamp', 'bright', 4200, 'EUR', 9)",
  );
  for (let i = 0; i < 60; i++) users.set(`usr_canary_${i}`, await bearerFor(`usr_canary_${i}`, 'customer'));
});

const asOps = (audience: string) => asGateway(audience, null, { scope: 'ops' });

afterEach(async () => {
  // Weights, chaos and breakers live in Durable Objects, which outlast a test.
  await env.ROUTE_WEIGHTS.get(env.ROUTE_WEIGHTS.idFromName('catalog')).clear();
  // Both versions are the catalog: their chaos switches take the catalog's ops tokens.
  await env.CATALOG.fetch('https://catalog.internal/_chaos', { method: 'DELETE', headers: await asOps('catalog') });
  await env.CATALOG_CANARY.fetch('https://catalog-canary.internal/_chaos', { method: 'DELETE', headers: await asOps('catalog') });
  for (const upstream of ['catalog', 'catalog@v2']) await env.BREAKERS.get(env.BREAKERS.idFromName(upstream)).reset();
});

describe('versions of the catalog route', () => {
  it('serves everyone from v1 by default, and says so', async () => {
    const gw = testEnv({});
    expect(await routesNow(gw)).toEqual({ catalog: { versions: ['v1', 'v2'], weights: { v1: 100, v2: 0 }, allow: {} } });
    for (const headers of [...users.values()].slice(0, 5)) expect(await served(gw, headers)).toMatchObject({ status: 200, by: 'catalog@v1', version: 'v1', cookie: null });
    expect(await served(gw, visitor(1))).toMatchObject({ status: 200, by: 'catalog@v1', version: 'v1' });
  });

  // About 150 signed-in requests through the gateway and both catalog versions: more than the
  // default 5 s on a busy 2-core machine, so it has its own limit.
  it('splits signed-in users by their id, the same way on every call, and both versions read the same data', { timeout: 30_000 }, async () => {
    const gw = testEnv({});
    const put = await putWeights(gw, { weights: { v2: 30, v1: 70 } });
    expect(put.status).toBe(200);
    expect(await put.json()).toEqual({ catalog: { versions: ['v1', 'v2'], weights: { v1: 70, v2: 30 }, allow: {} } });

    const first = new Map<string, string>();
    for (const [user, headers] of users) {
      const version = expected({ v1: 70, v2: 30 }).choose(user);
      const response = await callWorker(gateway, PRODUCT, { headers }, gw);
      expect(response.status).toBe(200);
      expect(response.headers.get('x-served-by')).toBe(`catalog@${version}`);
      // The answer really came from that version's worker, and it read the shared database.
      expect(response.headers.get('x-service-version')).toBe(version);
      expect(await response.json()).toMatchObject({ id: 'prod_canary_1', name: 'Canary Lamp' });
      first.set(user, version);
    }
    expect(new Set(first.values())).toEqual(new Set(['v1', 'v2']));
    for (const [user, headers] of [...users].slice(0, 10)) {
      for (let i = 0; i < 3; i++) expect((await served(gw, headers)).by).toBe(`catalog@${first.get(user)}`);
    }

    // More to the canary: nobody leaves v2, and only users in the moved slice leave v1.
    expect((await putWeights(gw, { weights: { v1: 60, v2: 40 } })).status).toBe(200);
    for (const [user, headers] of users) {
      const now = (await served(gw, headers)).by;
      if (first.get(user) === 'v2' || expected({ v1: 60, v2: 40 }).choose(user) === 'v1') expect(now).toBe(`catalog@${first.get(user)}`);
      else expect(now).toBe('catalog@v2');
    }
  });

  it('keeps an anonymous visitor on one version with a first-party cookie, set once', async () => {
    const gw = testEnv({});
    await putWeights(gw, { weights: { v1: 50, v2: 50 } });
    for (let n = 10; n < 16; n++) {
      const first = await served(gw, visitor(n));
      expect(first.cookie).toMatch(/^stratus_uid=[0-9a-f-]{36}; Max-Age=31536000; Path=\/; HttpOnly; Secure; SameSite=Lax$/);
      const cookie = first.cookie!.split(';')[0]!;
      expect(first.by).toBe(`catalog@${expected({ v1: 50, v2: 50 }).choose(cookie.slice('stratus_uid='.length))}`);
      for (let i = 0; i < 3; i++) {
        const next = await served(gw, visitor(n, cookie));
        expect(next).toMatchObject({ status: 200, by: first.by, cookie: null });
      }
    }
  });

  it('moves everyone to v2 at once with PUT /_ops/routes/catalog, no redeploy, and back', async () => {
    const gw = testEnv({});
    // Another isolate, which has read the weights and trusts them for its (short) refresh period.
    const otherIsolate = testEnv({ ROUTE_WEIGHTS_REFRESH_MS: '200' });
    const callers = [...[...users.values()].slice(0, 8), visitor(20), visitor(21)];
    for (const headers of callers) expect((await served(otherIsolate, headers)).by).toBe('catalog@v1');

    expect((await putWeights(gw, { weights: { v1: 0, v2: 100 } })).status).toBe(200);
    // The isolate that took the change, and any isolate reading now, route by it at once.
    for (const headers of callers) expect(await served(gw, headers)).toMatchObject({ status: 200, by: 'catalog@v2', version: 'v2' });
    for (const headers of callers) expect((await served(testEnv({}), headers)).by).toBe('catalog@v2');
    // One that read before routes by it within its refresh period.
    await expect.poll(async () => (await served(otherIsolate, callers[0]!)).by, { timeout: 3_000, interval: 50 }).toBe('catalog@v2');
    expect((await routesNow(testEnv({}))).catalog?.weights).toEqual({ v1: 0, v2: 100 });

    expect((await putWeights(gw, { weights: { v1: 100, v2: 0 } })).status).toBe(200);
    for (const headers of callers) expect((await served(gw, headers)).by).toBe('catalog@v1');
    // About 50 calls through the gateway and the catalog, one after another: more than 5 s on a busy CI machine.
  }, 20_000);

  it('refuses weights that are not whole percents of exactly its versions adding to 100, and changes nothing', async () => {
    const gw = testEnv({});
    await putWeights(gw, { weights: { v1: 70, v2: 30 } });
    const bad: [unknown, string][] = [
      [{ weights: { v1: 60, v2: 30 } }, 'weights'],
      [{ weights: { v1: 50, v2: 40, v3: 10 } }, 'weights.v3'],
      [{ weights: { v1: 100, canary: 0 } }, 'weights.canary'],
      [{ weights: { v1: 100 } }, 'weights.v2'],
      [{ weights: { v1: 110, v2: -10 } }, 'weights'],
      [{ weights: { v1: 50.5, v2: 49.5 } }, 'weights'],
      [{ weights: { v1: '50', v2: '50' } }, 'weights.v1'],
      [{ weights: { v1: 100, v2: 0 }, note: 'extra' }, '(root)'],
      [{}, 'weights'],
      [[], '(root)'],
    ];
    for (const [body, path] of bad) {
      const response = await putWeights(gw, body);
      expect([body, response.status]).toEqual([body, 400]);
      expect(response.headers.get('content-type')).toBe('application/problem+json');
      const problem = (await response.json()) as { errors: { path: string; message: string }[] };
      expect(problem.errors.map((e) => e.path), JSON.stringify(body)).toContain(path);
    }
    const notJson = await putWeights(gw, '{"weights":');
    expect(notJson.status).toBe(400);
    expect((await routesNow(gw)).catalog?.weights).toEqual({ v1: 70, v2: 30 });
    expect((await routesNow(testEnv({}))).catalog?.weights).toEqual({ v1: 70, v2: 30 });
  });

  it('is for the operator only (401), and 404 for an unknown route or one without versions', async () => {
    const gw = testEnv({});
    const adminUser = await bearerFor('usr_canary_admin', 'customer', 'admin');
    for (const headers of [{}, { authorization: 'Bearer wrong', 'cf-connecting-ip': ownAddress() }, adminUser] as Record<string, string>[]) {
      const put = await putWeights(gw, { weights: { v1: 0, v2: 100 } }, headers);
      expect(put.status).toBe(401);
      expect(put.headers.get('www-authenticate')).toMatch(/^Bearer/);
      expect((await callWorker(gateway, '/_ops/routes', { headers }, gw)).status).toBe(401);
    }
    for (const name of ['nope', 'payments']) {
      const response = await callWorker(gateway, `/_ops/routes/${name}`, { method: 'PUT', headers: { ...operator, 'content-type': 'application/json' }, body: '{"weights":{"v1":100}}' }, gw);
      expect(response.status).toBe(404);
    }
    expect((await routesNow(gw)).catalog?.weights).toEqual({ v1: 100, v2: 0 });
  });
});

describe('chaos on the canary alone', () => {
  // A short breaker, no retries: the canary's breaker opens after 4 calls and stays open.
  const policies = { catalog: { retry: false, breaker: { minimumCalls: 4, openDurationMs: 60_000 } } };
  const chaosAllowed = () => testEnv({ ALLOW_CHAOS: 'true', ROUTE_POLICIES: JSON.stringify(policies) });
  const chaos = (gw: Cloudflare.Env, service: string, body: unknown) =>
    callWorker(gateway, `/_ops/chaos/${service}`, { method: 'PUT', headers: { ...operator, 'content-type': 'application/json' }, body: JSON.stringify(body) }, gw);

  it('breaks only v2 traffic: its own breaker opens, v1 users never notice', async () => {
    const gw = chaosAllowed();
    await putWeights(gw, { weights: { v1: 50, v2: 50 } });
    const onV1 = [...users].filter(([user]) => expected({ v1: 50, v2: 50 }).choose(user) === 'v1').slice(0, 6);
    const onV2 = [...users].filter(([user]) => expected({ v1: 50, v2: 50 }).choose(user) === 'v2').slice(0, 6);
    expect([onV1.length, onV2.length]).toEqual([6, 6]);

    const on = await chaos(gw, 'catalog-canary', { failureRate: 1 });
    expect(on.status).toBe(200);
    expect(await on.json()).toEqual({ service: 'catalog-canary', chaos: { failureRate: 1, status: 503, latencyMs: 0, hang: false } });

    for (let round = 0; round < 2; round++) {
      for (const [, headers] of onV1) expect(await served(gw, headers)).toMatchObject({ status: 200, by: 'catalog@v1', version: 'v1' });
      for (const [, headers] of onV2) expect(await served(gw, headers)).toMatchObject({ status: 503, by: 'catalog@v2' });
    }
    const breakers = (await (await callWorker(gateway, '/_ops/breakers', { headers: operator }, gw)).json()) as Record<string, { state: string }>;
    expect(breakers['catalog@v2']?.state).toBe('open');
    expect(breakers.catalog?.state).toBe('closed');
    // Open: v2 callers are refused by the gateway without reaching the canary.
    const refused = await callWorker(gateway, PRODUCT, { headers: onV2[0]![1] }, gw);
    expect(((await refused.json()) as { type: string }).type).toBe('/problems/circuit-open');
    expect(refused.headers.get('x-served-by')).toBe('catalog@v2');
    const scrape = await (await callWorker(gateway, '/metrics', {}, gw)).text();
    expect(scrape).toContain('circuit_breaker_state{upstream="catalog@v2"} 2');
    expect(scrape).toContain('circuit_breaker_state{upstream="catalog"} 0');

    // The stable version's own chaos switch was never touched.
    const catalogChaos = await env.CATALOG.fetch('https://catalog.internal/_chaos', { headers: await asOps('catalog') });
    expect(await catalogChaos.json()).toEqual({ chaos: null });
    // Moving the canary's share back to v1 rescues its users at once.
    await putWeights(gw, { weights: { v1: 100, v2: 0 } });
    for (const [, headers] of onV2) expect(await served(gw, headers)).toMatchObject({ status: 200, by: 'catalog@v1' });
    expect((await callWorker(gateway, '/_ops/chaos/catalog-canary', { method: 'DELETE', headers: operator }, gw)).status).toBe(204);
  });

  it('keeps a last-good copy for a browser that carries only the visitor cookie (it identifies no one)', async () => {
    const gw = testEnv({ ALLOW_CHAOS: 'true', ROUTE_POLICIES: JSON.stringify(policies), CACHE_ENABLED: 'false' });
    const cookie = (await served(gw, visitor(40), '/api/catalog/products?limit=1')).cookie!.split(';')[0]!;
    // This path is only ever asked for with the cookie.
    const path = `${PRODUCT}?via=cookie`;
    expect((await served(gw, visitor(40, cookie), path)).status).toBe(200);
    await chaos(gw, 'catalog', { failureRate: 1 });
    const response = await callWorker(gateway, path, { headers: visitor(40, cookie) }, gw);
    expect(response.status).toBe(200);
    expect(response.headers.get('x-fallback')).toBe('last-good');
    expect(response.headers.get('x-served-by')).toBe('catalog@v1');
  });

  it('reports the canary in /ready as a service of its own', async () => {
    const response = await callWorker(gateway, '/ready');
    expect(response.status).toBe(200);
    const { checks } = (await response.json()) as { checks: Record<string, { status: string }> };
    expect(checks['catalog-canary']).toEqual({ status: 'up' });
    expect(checks['catalog-canary.db']).toEqual({ status: 'up' });
  });
});

describe('metrics per version', () => {
  const sample = (text: string, series: string) => Number(text.split('\n').find((l) => l.startsWith(`${series} `))?.split(' ')[1] ?? 0);
  const V1 = 'route_version_requests_total{route="catalog",status="200",version="v1"}';
  const V2 = 'route_version_requests_total{route="catalog",status="200",version="v2"}';

  it('counts requests by route and the version that served them', async () => {
    const gw = testEnv({});
    const before = await (await callWorker(gateway, '/metrics', {}, gw)).text();
    await putWeights(gw, { weights: { v1: 50, v2: 50 } });
    let v1 = 0;
    let v2 = 0;
    for (const headers of [...users.values()].slice(0, 20)) ((await served(gw, headers)).by === 'catalog@v1' ? v1++ : v2++);
    const after = await (await callWorker(gateway, '/metrics', {}, gw)).text();
    expect(after).toContain('# TYPE route_version_requests_total counter');
    expect([sample(after, V1) - sample(before, V1), sample(after, V2) - sample(before, V2)]).toEqual([v1, v2]);
  });
});
