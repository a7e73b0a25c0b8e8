import { env, exports } from 'cloudflare:workers';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import gateway from '../../workers/gateway/index';
import { bearerFor } from '../support/access-token';
import { callWorker, json, testEnv } from '../support/call-worker';
import { asGateway } from '../support/service-token';

/**
 * The response cache in front of the real catalog, through the real gateway (its route table,
 * edge auth, rate limit, canary choice, resilience and Cache API), with the catalog's own D1.
 * Anonymous calls come from their own address per test (`cf-connecting-ip`), so the catalog
 * route's rate limit, which counts per address, never mixes them with other tests' calls.
 */
let admin: { authorization: string };

interface Product {
  id: string;
  name: string;
  priceCents: number;
}

const insert = (id: string, name: string, priceCents = 1000) =>
  env.TEST_CATALOG_DB.prepare("INSERT INTO products (id, name, description, price_cents, currency, stock) VALUES (?, ?, '', ?, 'EUR', 5)").bind(id, name, priceCents).run();

beforeAll(async () => {
  admin = await bearerFor('usr_admin_cache', 'customer', 'admin');
});

afterEach(() => {
  vi.restoreAllMocks();
});

/** A caller of its own: anonymous, from one address. */
function caller(gw?: Cloudflare.Env) {
  const headers = { 'cf-connecting-ip': `198.51.100.${Math.floor(Math.random() * 250) + 1}` };
  return (path: string, init: RequestInit = {}) => callWorker(gateway, path, { ...init, headers: { ...headers, ...(init.headers as Record<string, string>) } }, gw ?? {});
}

const xcache = (response: Response) => response.headers.get('x-cache');
const put = (id: string, body: unknown) => callWorker(gateway, `/api/catalog/products/${id}`, { ...json(body, admin), method: 'PUT' });

describe('the catalog behind the response cache', () => {
  it('caches a product: MISS, then HIT even when the database changes behind the gateway’s back', async () => {
    const id = `prod_cache_${crypto.randomUUID().slice(0, 8)}`;
    await insert(id, 'Camp Stove');
    const get = caller();
    const miss = await get(`/api/catalog/products/${id}`);
    expect([miss.status, xcache(miss)]).toEqual([200, 'MISS']);
    expect(((await miss.json()) as Product).name).toBe('Camp Stove');
    await env.TEST_CATALOG_DB.prepare('UPDATE products SET name = ? WHERE id = ?').bind('Changed Directly', id).run();
    const hit = await get(`/api/catalog/products/${id}`);
    expect([xcache(hit), hit.headers.get('age')]).toEqual(['HIT', '0']);
    expect(((await hit.json()) as Product).name).toBe('Camp Stove');
  });

  it('a PUT through the gateway (as an admin) purges the product and every list: the next reads are MISSes with the new data', async () => {
    const unique = crypto.randomUUID().slice(0, 8);
    const id = `prod_cache_${unique}`;
    await insert(id, `Headlamp ${unique}`, 2500);
    const get = caller();
    const list = `/api/catalog/products?q=${unique}&limit=10`;
    for (const path of [`/api/catalog/products/${id}`, list]) {
      expect(xcache(await get(path))).toBe('MISS');
      expect(xcache(await get(path))).toBe('HIT');
    }

    const updated = await put(id, { name: `Headlamp Pro ${unique}`, priceCents: 3500 });
    expect([updated.status, xcache(updated)]).toEqual([200, 'BYPASS']);

    const product = await get(`/api/catalog/products/${id}`);
    expect(xcache(product)).toBe('MISS');
    expect(await product.json()).toMatchObject({ id, name: `Headlamp Pro ${unique}`, priceCents: 3500 });
    const page = await get(list);
    expect(xcache(page)).toBe('MISS');
    expect(((await page.json()) as { items: Product[] }).items).toEqual([expect.objectContaining({ id, name: `Headlamp Pro ${unique}`, priceCents: 3500 })]);
    expect(xcache(await get(`/api/catalog/products/${id}`))).toBe('HIT');
  });

  it('a percent-encoded spelling of a product path shares its entry, and its purge', async () => {
    const id = `prod_cache_${crypto.randomUUID().slice(0, 8)}`;
    await insert(id, 'Dry Bag');
    const get = caller();
    expect(xcache(await get(`/api/catalog/products/${id}`))).toBe('MISS');
    expect(xcache(await get(`/api/catalog/%70roducts/${id}`))).toBe('HIT');
    expect((await put(id, { name: 'Dry Bag 20L' })).status).toBe(200);
    const after = await get(`/api/catalog/%70roducts/${id}`);
    expect(xcache(after)).toBe('MISS');
    expect(((await after.json()) as Product).name).toBe('Dry Bag 20L');
  });

  it('a POST through the gateway purges the lists: the new product is in the next page read', async () => {
    const get = caller();
    const list = '/api/catalog/products?q=Cache%20Tarp&limit=10';
    const before = await get(list);
    expect(xcache(before)).toBe('MISS');
    expect(((await before.json()) as { items: Product[] }).items).toEqual([]);
    expect(xcache(await get(list))).toBe('HIT');

    const created = await callWorker(gateway, '/api/catalog/products', json({ name: 'Cache Tarp', priceCents: 4200, currency: 'EUR', stock: 1 }, admin));
    expect([created.status, xcache(created)]).toEqual([201, 'BYPASS']);
    const { id } = (await created.json()) as Product;
    const after = await get(list);
    expect(xcache(after)).toBe('MISS');
    expect(((await after.json()) as { items: Product[] }).items.map((p) => p.id)).toEqual([id]);
  });

  it('another isolate stops serving a purged answer within a second', async () => {
    const real = Date.now.bind(Date);
    let offsetMs = 0;
    vi.spyOn(Date, 'now').mockImplementation(() => real() + offsetMs);
    const id = `prod_cache_${crypto.randomUUID().slice(0, 8)}`;
    await insert(id, 'Water Filter');
    const otherIsolate = caller(testEnv({}));
    expect(xcache(await otherIsolate(`/api/catalog/products/${id}`))).toBe('MISS');
    expect(xcache(await otherIsolate(`/api/catalog/products/${id}`))).toBe('HIT');

    expect((await put(id, { name: 'Water Filter II' })).status).toBe(200);
    offsetMs += 1_100;
    const after = await otherIsolate(`/api/catalog/products/${id}`);
    expect(xcache(after)).toBe('MISS');
    expect(((await after.json()) as Product).name).toBe('Water Filter II');
  });

  it('a browser with only the gateway’s visitor cookie is served from the cache; any other cookie bypasses it', async () => {
    const id = `prod_cache_${crypto.randomUUID().slice(0, 8)}`;
    await insert(id, 'Trail Map');
    const get = caller();
    const visitor = { cookie: `stratus_uid=${crypto.randomUUID()}` };
    expect(xcache(await get(`/api/catalog/products/${id}`, { headers: visitor }))).toBe('MISS');
    expect(xcache(await get(`/api/catalog/products/${id}`, { headers: visitor }))).toBe('HIT');
    expect(xcache(await get(`/api/catalog/products/${id}`, { headers: { cookie: 'session=abc' } }))).toBe('BYPASS');
  });

  it('answers to a caller with a token bypass the cache; routes without a cache policy carry no x-cache', async () => {
    const id = `prod_cache_${crypto.randomUUID().slice(0, 8)}`;
    await insert(id, 'Bear Canister');
    const asUser = await bearerFor('usr_cache_reader', 'customer');
    for (let i = 0; i < 2; i++) expect(xcache(await callWorker(gateway, `/api/catalog/products/${id}`, { headers: asUser }))).toBe('BYPASS');
    const jwks = await callWorker(gateway, '/.well-known/jwks.json');
    expect(jwks.status).toBe(200);
    expect(jwks.headers.has('x-cache')).toBe(false);
  });

  it('counts cache_requests_total{route,result} on /metrics', async () => {
    const sample = (text: string, result: string) => {
      const series = `cache_requests_total{result="${result}",route="/api/catalog/*"} `;
      const line = text.split('\n').find((l) => l.startsWith(series));
      return line ? Number(line.slice(series.length)) : 0;
    };
    const id = `prod_cache_${crypto.randomUUID().slice(0, 8)}`;
    await insert(id, 'Trekking Poles');
    const get = caller();
    const before = await (await callWorker(gateway, '/metrics')).text();
    await get(`/api/catalog/products/${id}`);
    await get(`/api/catalog/products/${id}`);
    await get(`/api/catalog/products/${id}`);
    await put(id, { stock: 4 });
    const after = await (await callWorker(gateway, '/metrics')).text();
    expect(after).toContain('# TYPE cache_requests_total counter');
    expect(sample(after, 'miss') - sample(before, 'miss')).toBe(1);
    expect(sample(after, 'hit') - sample(before, 'hit')).toBe(2);
    expect(sample(after, 'bypass') - sample(before, 'bypass')).toBe(1);
  });
});

describe('request coalescing across real requests (each its own I/O context in workerd)', () => {
  const asOps = () => asGateway('catalog', null, { scope: 'ops' });

  afterEach(async () => {
    await env.CATALOG.fetch('https://catalog.internal/_chaos', { method: 'DELETE', headers: await asOps() });
  });

  it('20 concurrent requests for a product: one reaches the catalog, all 20 get the whole product', async () => {
    const id = `prod_cache_${crypto.randomUUID().slice(0, 8)}`;
    await insert(id, 'Sleeping Pad', 8900);
    // The catalog takes 300 ms per request, so all 20 arrive while the first is still upstream.
    const chaos = await env.CATALOG.fetch('https://catalog.internal/_chaos', {
      method: 'PUT',
      headers: { ...(await asOps()), 'content-type': 'application/json' },
      body: JSON.stringify({ failureRate: 0, latencyMs: 300 }),
    });
    expect(chaos.status).toBe(200);

    // Through the worker's own fetch entry point: 20 separate requests, not calls in this one.
    const self = (exports as unknown as { default: Fetcher }).default;
    const responses = await Promise.all(
      Array.from({ length: 20 }, () => self.fetch(`https://stratus.test/api/catalog/products/${id}`, { headers: { 'cf-connecting-ip': '203.0.113.20' } })),
    );
    expect(responses.map((r) => r.status)).toEqual(Array(20).fill(200));
    const bodies = (await Promise.all(responses.map((r) => r.json()))) as Product[];
    for (const product of bodies) expect(product).toMatchObject({ id, name: 'Sleeping Pad', priceCents: 8900 });
    expect(responses.map(xcache).sort()).toEqual(['MISS', ...Array(19).fill('HIT')].sort());

    // The catalog counts a view per request it serves (after answering): one.
    const views = async () => (await env.TEST_CATALOG_DB.prepare('SELECT views FROM products WHERE id = ?').bind(id).first<{ views: number }>())?.views;
    await expect.poll(views).toBeGreaterThanOrEqual(1);
    expect(await views()).toBe(1);
  });
});
