import { env } from 'cloudflare:workers';
import { drizzle } from 'drizzle-orm/d1';
import { beforeEach, describe, expect, it } from 'vitest';
import { ViewCounter } from '../../../workers/catalog/view-counter';
import catalogWorker from '../../../workers/catalog/index';
import { viaGateway, testUser } from '../../support/service-token';

const catalog = viaGateway(catalogWorker, 'catalog');
import { callWorker } from '../../support/call-worker';

beforeEach(async () => {
  await env.DB.exec('DELETE FROM products');
  await env.DB.exec(
    "INSERT INTO products (id, name, description, price_cents, currency, stock) VALUES ('a', 'A', '', 100, 'USD', 1), ('b', 'B', '', 200, 'USD', 1), ('c', 'C', '', 300, 'USD', 1)",
  );
});

const popular = async (query = '') => {
  const response = await callWorker(catalog, `/products/popular${query}`);
  expect(response.status).toBe(200);
  return (await response.json()) as { items: { id: string }[]; nextCursor: null };
};

describe('GET /products/popular (the most viewed list)', () => {
  it('ranks by views counted on GET /products/:id, ties by id, in the list shape', async () => {
    expect((await popular()).items.map((p) => p.id)).toEqual(['a', 'b', 'c']);
    // Views are counted after the answer (waitUntil); callWorker waits for that work.
    await Promise.all([...Array(3)].map(() => callWorker(catalog, '/products/c')));
    await callWorker(catalog, '/products/b');
    const ranked = await popular('?limit=2');
    expect(ranked).toEqual({ items: [expect.objectContaining({ id: 'c' }), expect.objectContaining({ id: 'b' })], nextCursor: null });
    const views = await env.DB.prepare('SELECT id, views FROM products ORDER BY id').all<{ id: string; views: number }>();
    expect(views.results).toEqual([
      { id: 'a', views: 0 },
      { id: 'b', views: 1 },
      { id: 'c', views: 3 },
    ]);
  });

  it('refuses a limit out of range with a 400 problem', async () => {
    const response = await callWorker(catalog, '/products/popular?limit=0');
    expect(response.status).toBe(400);
    expect(response.headers.get('content-type')).toBe('application/problem+json');
  });
});

describe('ViewCounter (views written in batches, not one UPDATE per read)', () => {
  it('adds views up in the isolate and writes them in one flush, scheduled by the first view only', async () => {
    let release!: () => void;
    const timer = new Promise<void>((resolve) => (release = resolve));
    const counter = new ViewCounter(1_000, () => timer);
    const db = drizzle(env.DB);
    const flushes = ['a', 'a', 'b', 'a', 'c', 'a', 'b'].map((id) => counter.count(id, db));
    expect(flushes.filter(Boolean)).toHaveLength(1);
    // Nothing written before the interval ends.
    expect((await env.DB.prepare('SELECT SUM(views) AS n FROM products').first<{ n: number }>())?.n).toBe(0);
    release();
    await flushes[0];
    const views = await env.DB.prepare('SELECT id, views FROM products ORDER BY id').all<{ id: string; views: number }>();
    expect(views.results).toEqual([
      { id: 'a', views: 4 },
      { id: 'b', views: 2 },
      { id: 'c', views: 1 },
    ]);
  });
});
