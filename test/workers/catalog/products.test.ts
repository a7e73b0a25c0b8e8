import { env } from 'cloudflare:workers';
import { beforeEach, describe, expect, it } from 'vitest';
import catalogWorker from '../../../workers/catalog/index';
import { viaGateway, testUser } from '../../support/service-token';

const catalog = viaGateway(catalogWorker, 'catalog');
import { callWorker, json } from '../../support/call-worker';

// The end users tests call as (viaGateway turns them into the service token's subject).
const asAdmin = testUser('op', 'admin');
const asCustomer = testUser('u1', 'customer');

interface Page {
  items: { id: string; name: string }[];
  nextCursor: string | null;
}

beforeEach(async () => {
  await env.DB.exec('DELETE FROM products');
  const rows = Array.from({ length: 7 }, (_, i) => `('p${i + 1}', 'Item ${i + 1}', 'plain', ${(i + 1) * 100}, 'USD', ${i})`);
  rows.push(`('p8', 'Percent 100% cotton', 'shirt', 900, 'USD', 1)`);
  await env.DB.exec(`INSERT INTO products (id, name, description, price_cents, currency, stock) VALUES ${rows.join(', ')}`);
});

const list = async (query: string) => {
  const response = await callWorker(catalog, `/products${query}`);
  expect(response.status).toBe(200);
  return (await response.json()) as Page;
};

describe('GET /products', () => {
  it('pages through every product exactly once with nextCursor', async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const page: Page = await list(`?limit=3${cursor ? `&cursor=${cursor}` : ''}`);
      seen.push(...page.items.map((p) => p.id));
      cursor = page.nextCursor;
      pages++;
    } while (cursor && pages < 10);
    expect(seen).toEqual(['p1', 'p2', 'p3', 'p4', 'p5', 'p6', 'p7', 'p8']);
    expect(pages).toBe(3);
  });

  it('keeps paging stable when a product is added between pages', async () => {
    const first = await list('?limit=4');
    await env.DB.exec("INSERT INTO products (id, name, price_cents, currency, stock) VALUES ('p0', 'Early', 1, 'USD', 1)");
    const second = await list(`?limit=4&cursor=${first.nextCursor}`);
    expect(second.items.map((p) => p.id)).toEqual(['p5', 'p6', 'p7', 'p8']);
  });

  it('treats an empty cursor as the first page', async () => {
    expect((await list('?limit=2&cursor=')).items.map((p) => p.id)).toEqual(['p1', 'p2']);
  });

  it('searches name and description, case-insensitively', async () => {
    expect((await list('?q=ITEM%203')).items.map((p) => p.id)).toEqual(['p3']);
    expect((await list('?q=shirt')).items.map((p) => p.id)).toEqual(['p8']);
  });

  it('treats % and _ in the search term as text, not wildcards', async () => {
    expect((await list('?q=100%25')).items.map((p) => p.id)).toEqual(['p8']);
    expect((await list('?q=_')).items).toEqual([]);
  });

  it.each([
    ['?limit=0', 'limit'],
    ['?limit=101', 'limit'],
    ['?limit=abc', 'limit'],
    ['?cursor=not-a-cursor', 'cursor'],
    ['?cursor=eyJ4IjoxfQ', 'cursor'], // valid base64url JSON, but not a cursor we issued
  ])('rejects %s with a field error', async (query, field) => {
    const response = await callWorker(catalog, `/products${query}`);
    expect(response.status).toBe(400);
    const problem = (await response.json()) as { errors: { path: string }[] };
    expect(problem.errors.map((e) => e.path)).toContain(field);
  });
});

describe('GET /products/:id', () => {
  it('returns the product in the API shape', async () => {
    const response = await callWorker(catalog, '/products/p2');
    expect(await response.json()).toEqual({ id: 'p2', name: 'Item 2', description: 'plain', priceCents: 200, currency: 'USD', stock: 1 });
  });

  it('404s for an unknown id', async () => {
    const response = await callWorker(catalog, '/products/nope');
    expect(response.status).toBe(404);
    expect(response.headers.get('content-type')).toBe('application/problem+json');
  });
});

describe('POST /products (admin)', () => {
  const product = { name: 'Stove', description: 'hot', priceCents: 4999, currency: 'EUR', stock: 10 };

  it('401 without an identity, 403 without the admin role; nothing written', async () => {
    expect((await callWorker(catalog, '/products', json(product))).status).toBe(401);
    expect((await callWorker(catalog, '/products', json(product, asCustomer))).status).toBe(403);
    const count = await env.DB.prepare("SELECT count(*) AS n FROM products WHERE name = 'Stove'").first<{ n: number }>();
    expect(count?.n).toBe(0);
  });

  it('creates with 201 and a location', async () => {
    const response = await callWorker(catalog, '/products', json(product, asAdmin));
    expect(response.status).toBe(201);
    const created = (await response.json()) as { id: string };
    expect(created).toMatchObject(product);
    expect(response.headers.get('location')).toBe(`/products/${created.id}`);
    const row = await env.DB.prepare('SELECT price_cents FROM products WHERE id = ?').bind(created.id).first<{ price_cents: number }>();
    expect(row?.price_cents).toBe(4999);
  });

  it.each([
    [{ ...product, priceCents: 49.99 }, 'priceCents'],
    [{ ...product, priceCents: '4999' }, 'priceCents'],
    [{ ...product, stock: -1 }, 'stock'],
    [{ ...product, currency: 'euro' }, 'currency'],
    [{ ...product, name: '   ' }, 'name'],
    [{ ...product, extra: true }, '(root)'],
  ])('rejects %j', async (body, field) => {
    const response = await callWorker(catalog, '/products', json(body, asAdmin));
    expect(response.status).toBe(400);
    const problem = (await response.json()) as { errors: { path: string }[] };
    expect(problem.errors.map((e) => e.path)).toContain(field);
  });
});

describe('PUT /products/:id (admin, partial)', () => {
  const put = (id: string, body: unknown, headers = asAdmin) => callWorker(catalog, `/products/${id}`, { ...json(body, headers), method: 'PUT' });

  it('changes only the fields sent', async () => {
    const response = await put('p3', { stock: 42 });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ id: 'p3', name: 'Item 3', description: 'plain', priceCents: 300, currency: 'USD', stock: 42 });
  });

  it('refuses an empty change and a negative stock, leaving the row as it was', async () => {
    expect((await put('p3', {})).status).toBe(400);
    expect((await put('p3', { stock: -5 })).status).toBe(400);
    const row = await env.DB.prepare('SELECT stock FROM products WHERE id = ?').bind('p3').first<{ stock: number }>();
    expect(row?.stock).toBe(2);
  });

  it('404s for an unknown id and 403s for a non-admin', async () => {
    expect((await put('nope', { stock: 1 })).status).toBe(404);
    expect((await put('p3', { stock: 1 }, asCustomer)).status).toBe(403);
  });
});

describe('the database itself refuses impossible rows', () => {
  it('rejects a negative stock even from code that skips validation', async () => {
    await expect(env.DB.exec("UPDATE products SET stock = -1 WHERE id = 'p1'")).rejects.toThrow(/CHECK constraint failed/);
  });
});

describe('health', () => {
  it('/ready checks D1', async () => {
    const response = await callWorker(catalog, '/ready');
    expect(await response.json()).toEqual({ status: 'ready', checks: { db: { status: 'up' } } });
  });

  it('/ready is 503 with the reason when D1 fails', async () => {
    const broken = { prepare: () => ({ first: () => Promise.reject(new Error('D1_ERROR: database unavailable')) }) } as unknown as D1Database;
    const response = await callWorker(catalog, '/ready', {}, { DB: broken });
    expect(response.status).toBe(503);
    expect(await response.json()).toEqual({ status: 'not_ready', checks: { db: { status: 'down', error: 'D1_ERROR: database unavailable' } } });
  });
});
