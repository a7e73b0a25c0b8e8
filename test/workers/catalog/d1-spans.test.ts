import { env } from 'cloudflare:workers';
import { beforeEach, describe, expect, it } from 'vitest';
import catalogWorker from '../../../workers/catalog/index';
import { callWorker, json } from '../../support/call-worker';
import { testUser, viaGateway } from '../../support/service-token';
import { captureSpansEachTest, clientSpansOf } from '../../support/span-capture';

// The product routes' D1 round trips are CLIENT spans of their request (traced-d1.ts), as the
// inventory routes' are, exported when OTEL_EXPORTER_OTLP_ENDPOINT is set.
const catalog = viaGateway(catalogWorker, 'catalog');
const capture = captureSpansEachTest();
beforeEach(async () => {
  await env.DB.exec("DELETE FROM products; INSERT INTO products (id, name, description, price_cents, currency, stock) VALUES ('p-span', 'Spanned', 'plain', 100, 'USD', 3)");
});

describe('the catalog traces its product reads and writes', () => {
  it('a list: one SELECT under GET /products', async () => {
    expect((await callWorker(catalog, '/products?limit=5', {}, capture.bindings)).status).toBe(200);
    const d1 = clientSpansOf(capture.spans, 'catalog', 'GET /products');
    expect(d1.map((s) => [s.name, s.attributes['db.operation.name']])).toEqual([['D1 SELECT', 'SELECT']]);
    expect(String(d1[0]!.attributes['db.query.text'])).toContain('"products"');
  });

  it("a product read is traced; the view count, flushed after the answer, is not", async () => {
    expect((await callWorker(catalog, '/products/p-span', {}, capture.bindings)).status).toBe(200);
    expect(clientSpansOf(capture.spans, 'catalog', 'GET /products/:id').map((s) => s.name)).toEqual(['D1 SELECT']);
    expect(capture.spans.filter((s) => s.name.startsWith('D1 '))).toHaveLength(1);
  });

  it("an admin's new product: its INSERT under POST /products", async () => {
    const response = await callWorker(catalog, '/products', json({ name: 'Traced', priceCents: 500, currency: 'USD', stock: 1 }, testUser('op', 'admin')), capture.bindings);
    expect(response.status).toBe(201);
    expect(clientSpansOf(capture.spans, 'catalog', 'POST /products').map((s) => s.name)).toEqual(['D1 INSERT']);
  });
});
