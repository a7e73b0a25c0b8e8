import { env } from 'cloudflare:workers';
import { beforeAll, describe, expect, it } from 'vitest';
import gateway from '../../workers/gateway/index';
import { callWorker, json } from '../support/call-worker';
import { asGateway } from '../support/service-token';
import { bearerFor } from '../support/access-token';

const CLIENT_TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const CLIENT_SPAN = '00f067aa0ba902b7';
// An admin user's access token, as the users service would issue it (made in beforeAll).
let admin: { authorization: string };

beforeAll(async () => {
  admin = await bearerFor('usr_admin_e2e', 'customer', 'admin');
  await env.TEST_CATALOG_DB.exec(
    "INSERT OR IGNORE INTO products (id, name, description, price_cents, currency, stock) VALUES ('prod_e2e_1', 'Trail Shoes', 'grip', 12900, 'USD', 5)",
  );
});

// The other services behind the gateway, up all along: one service down does not hide the rest.
// (The catalog's canary is a worker of its own, with its own binding: a broken CATALOG leaves it up.)
const othersUp = {
  'catalog-canary': { status: 'up' },
  'catalog-canary.db': { status: 'up' },
  payments: { status: 'up' },
  'payments.db': { status: 'up' },
  users: { status: 'up' },
  'users.db': { status: 'up' },
  'users.signingKey': { status: 'up' },
  orders: { status: 'up' },
  'orders.db': { status: 'up' },
  notifications: { status: 'up' },
  'notifications.db': { status: 'up' },
  ledger: { status: 'up' },
  'ledger.db': { status: 'up' },
};

const problemOf = async (response: Response) => {
  expect(response.headers.get('content-type')).toBe('application/problem+json');
  return (await response.json()) as { type: string; title: string; status: number; detail: string; instance: string; requestId: string; errors?: { path: string; message: string }[] };
};

describe('gateway → catalog through the service binding', () => {
  it('strips /api/catalog before the catalog sees the path', async () => {
    const response = await callWorker(gateway, '/api/catalog/products/prod_e2e_1');
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ id: 'prod_e2e_1', name: 'Trail Shoes', priceCents: 12900, currency: 'USD', stock: 5 });
  });

  it('reports the client-facing path in a service problem, not the rewritten one', async () => {
    const problem = await problemOf(await callWorker(gateway, '/api/catalog/products/missing'));
    expect(problem).toMatchObject({ status: 404, title: 'Not Found', instance: '/api/catalog/products/missing' });
  });

  it('does not route a prefix that only shares characters (/api/catalogue)', async () => {
    const response = await callWorker(gateway, '/api/catalogue/products');
    const problem = await problemOf(response);
    expect(problem.status).toBe(404);
    expect(problem.detail).toContain('/api/catalogue/products');
  });

  it('echoes a valid x-request-id and the catalog receives the same id', async () => {
    const response = await callWorker(gateway, '/api/catalog/products/missing', { headers: { 'x-request-id': 'client-req.42' } });
    expect(response.headers.get('x-request-id')).toBe('client-req.42');
    // The problem body is written by the catalog worker from the id it was sent.
    expect((await problemOf(response)).requestId).toBe('client-req.42');
  });

  it('replaces an x-request-id that does not match the allowed pattern', async () => {
    const response = await callWorker(gateway, '/api/catalog/products/missing', { headers: { 'x-request-id': 'bad id with spaces' } });
    const id = response.headers.get('x-request-id');
    expect(id).toMatch(/^[A-Za-z0-9._-]{1,128}$/);
    expect(id).not.toBe('bad id with spaces');
    expect((await problemOf(response)).requestId).toBe(id);
  });

  it('continues the caller’s trace through the gateway into the catalog', async () => {
    const response = await callWorker(gateway, '/api/catalog/products', {
      headers: { traceparent: `00-${CLIENT_TRACE}-${CLIENT_SPAN}-01`, tracestate: 'vendor=opaque' },
    });
    expect(response.status).toBe(200);
    // traceresponse names the span that served the request: the catalog's, in the caller's trace.
    const [version, traceId, spanId, flags] = (response.headers.get('traceresponse') ?? '').split('-');
    expect(version).toBe('00');
    expect(traceId).toBe(CLIENT_TRACE);
    expect(spanId).toMatch(/^[0-9a-f]{16}$/);
    expect(spanId).not.toBe(CLIENT_SPAN);
    expect(flags).toBe('01');
  });

  it('starts a new trace when the caller sends none', async () => {
    const response = await callWorker(gateway, '/api/catalog/products');
    expect(response.headers.get('traceresponse')).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
  });

  it('passes the query string through (pagination and search)', async () => {
    const response = await callWorker(gateway, '/api/catalog/products?q=trail%20shoes&limit=1');
    const body = (await response.json()) as { items: { id: string }[] };
    expect(body.items.map((p) => p.id)).toEqual(['prod_e2e_1']);
  });
});

describe('the path the catalog sees is the path the gateway matched', () => {
  it('keeps a doubled slash a path, never a host', async () => {
    // Parsed as a URL string, `//x/products/…` would make `x` the host and reach /products/….
    const response = await callWorker(gateway, '/api/catalog//x/products/prod_e2e_1');
    expect(response.status).toBe(404);
    const odd = await callWorker(gateway, '/api/catalog//[/x');
    expect(odd.status).toBe(404);
  });

  it('does not publish a service’s own /health and /ready', async () => {
    expect((await callWorker(gateway, '/api/catalog/ready')).status).toBe(404);
    expect((await callWorker(gateway, '/api/catalog/health')).status).toBe(404);
  });

  it('gives a Location that works from outside', async () => {
    const created = await callWorker(gateway, '/api/catalog/products', json({ name: 'Tarp', priceCents: 3900, currency: 'USD', stock: 2 }, admin));
    const location = created.headers.get('location') ?? '';
    expect(location).toMatch(/^\/api\/catalog\/products\/prod_[0-9a-f]{32}$/);
    expect((await callWorker(gateway, location)).status).toBe(200);
  });

  it('accepts the bearer scheme in any letter case', async () => {
    const created = await callWorker(gateway, '/api/catalog/products', json({ name: 'Cord', priceCents: 500, currency: 'USD', stock: 9 }, { authorization: admin.authorization.replace('Bearer', 'bearer') }));
    expect(created.status).toBe(201);
  });
});

describe('CORS', () => {
  const origin = { origin: 'https://app.example' };

  it('allows a listed origin, even on the gateway’s own 413 and 415', async () => {
    const unsupported = await callWorker(gateway, '/api/catalog/products', { method: 'POST', headers: { 'content-type': 'text/plain', ...origin }, body: 'x' });
    expect(unsupported.status).toBe(415);
    expect(unsupported.headers.get('access-control-allow-origin')).toBe('https://app.example');
    const tooLarge = await callWorker(gateway, '/api/catalog/products', {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...origin },
      body: JSON.stringify({ description: 'y'.repeat(1024 * 1024 + 1) }),
    });
    expect(tooLarge.status).toBe(413);
    expect(tooLarge.headers.get('access-control-allow-origin')).toBe('https://app.example');
  });

  it('answers as hono/cors would: the grant, the exposed headers and Vary on a proxied answer, an error, a 404 and a preflight', async () => {
    const proxied = await callWorker(gateway, '/api/catalog/products?limit=1', { headers: origin });
    const missing = await callWorker(gateway, '/api/catalog/products/nope', { headers: origin });
    const unknown = await callWorker(gateway, '/nowhere', { headers: origin });
    for (const [what, response, status] of [['proxied', proxied, 200], ['404 from the catalog', missing, 404], ["the gateway's 404", unknown, 404]] as const) {
      expect(response.status, what).toBe(status);
      expect(response.headers.get('access-control-allow-origin'), what).toBe('https://app.example');
      expect(response.headers.get('access-control-expose-headers'), what).toContain('x-request-id,traceresponse');
      expect(response.headers.get('vary'), what).toContain('Origin');
      // The headers set after the handler are still on it (they go on the final response itself).
      expect(response.headers.get('x-request-id'), what).toBeTruthy();
    }
    expect(proxied.headers.get('x-served-by')).toMatch(/^catalog@/);
    // Without an Origin: nothing granted, still Vary (a shared cache must key by it).
    const plain = await callWorker(gateway, '/api/catalog/products?limit=1');
    expect(plain.headers.get('access-control-allow-origin')).toBeNull();
    expect(plain.headers.get('vary')).toContain('Origin');
    const preflight = await callWorker(gateway, '/api/catalog/products', { method: 'OPTIONS', headers: { ...origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' } });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-origin')).toBe('https://app.example');
    expect(preflight.headers.get('access-control-max-age')).toBe('600');
    expect(preflight.headers.get('access-control-allow-headers')).toBe('content-type');
  });

  it('gives no CORS grant to an origin that is not listed', async () => {
    const response = await callWorker(gateway, '/api/catalog/products', { headers: { origin: 'https://evil.example' } });
    expect(response.status).toBe(200);
    expect(response.headers.get('access-control-allow-origin')).toBeNull();
  });
});

describe('errors are problem+json at the gateway', () => {
  it('404 for an unknown route', async () => {
    const problem = await problemOf(await callWorker(gateway, '/nowhere'));
    expect(problem).toMatchObject({ status: 404, instance: '/nowhere', type: '/problems/not-found' });
    expect(problem.requestId).toBeTruthy();
  });

  it('400 for malformed JSON, and nothing is written', async () => {
    const response = await callWorker(gateway, '/api/catalog/products', {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...admin },
      body: '{"name": "Broken",',
    });
    expect((await problemOf(response)).status).toBe(400);
    const count = await env.TEST_CATALOG_DB.prepare("SELECT count(*) AS n FROM products WHERE name = 'Broken'").first<{ n: number }>();
    expect(count?.n).toBe(0);
  });

  it('400 with field errors for an invalid product', async () => {
    const problem = await problemOf(await callWorker(gateway, '/api/catalog/products', json({ name: '', priceCents: 1.5, currency: 'usd', stock: -1 }, admin)));
    expect(problem.status).toBe(400);
    expect(problem.type).toBe('/problems/validation-failed');
    expect(problem.errors?.map((e) => e.path).sort()).toEqual(['currency', 'name', 'priceCents', 'stock']);
  });

  it('413 for a body over 1 MiB, refused before it reaches the catalog', async () => {
    const big = JSON.stringify({ name: 'x', description: 'y'.repeat(1024 * 1024), priceCents: 1, currency: 'USD', stock: 1 });
    const problem = await problemOf(await callWorker(gateway, '/api/catalog/products', { method: 'POST', headers: { 'content-type': 'application/json', ...admin }, body: big }));
    expect(problem.status).toBe(413);
    expect(problem.instance).toBe('/api/catalog/products');
  });

  it('413 also when the body is streamed without a content-length', async () => {
    const chunk = new TextEncoder().encode('y'.repeat(64 * 1024));
    let sent = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent++ < 20) controller.enqueue(chunk);
        else controller.close();
      },
    });
    const response = await callWorker(gateway, '/api/catalog/products', {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'transfer-encoding': 'chunked', ...admin },
      body,
      // @ts-expect-error -- `duplex` is required by the fetch spec for streamed bodies but missing from the types.
      duplex: 'half',
    });
    expect((await problemOf(response)).status).toBe(413);
  });

  it('415 for a body that is not JSON', async () => {
    const response = await callWorker(gateway, '/api/catalog/products', { method: 'POST', headers: { 'content-type': 'text/plain', ...admin }, body: 'hello' });
    expect((await problemOf(response)).status).toBe(415);
  });
});

describe('admin routes: an admin user’s access token, verified at the edge', () => {
  it('creates a product as an admin user and serves it back', async () => {
    const created = await callWorker(gateway, '/api/catalog/products', json({ name: 'Bivy Sack', priceCents: 15900, currency: 'EUR', stock: 3 }, admin));
    expect(created.status).toBe(201);
    const product = (await created.json()) as { id: string };
    const fetched = await callWorker(gateway, `/api/catalog/products/${product.id}`);
    expect(await fetched.json()).toMatchObject({ id: product.id, name: 'Bivy Sack', priceCents: 15900, currency: 'EUR', stock: 3, description: '' });
  });

  it('ignores a service token a client sends itself, however it was made', async () => {
    // Even a token signed with the gateway's own key is the gateway's to set, never a client's.
    const forged = await asGateway('catalog', { id: 'me', roles: ['admin'] });
    const response = await callWorker(gateway, '/api/catalog/products', json({ name: 'Spoofed', priceCents: 1, currency: 'USD', stock: 1 }, forged));
    expect((await problemOf(response)).status).toBe(401);
  });

  it('a service reached without a service token answers 401, even through its binding', async () => {
    const response = await env.CATALOG.fetch('https://catalog.internal/products');
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toMatch(/^Bearer/);
    expect((await env.PAYMENTS.fetch('https://payments.internal/payments?orderId=x')).status).toBe(401);
    // Liveness alone needs nothing.
    expect((await env.CATALOG.fetch('https://catalog.internal/health')).status).toBe(200);
  });

  it('401 at the edge for a token that is not valid, the catalog never asked', async () => {
    const response = await callWorker(gateway, '/api/catalog/products', json({ name: 'Nope', priceCents: 1, currency: 'USD', stock: 1 }, { authorization: 'Bearer wrong' }));
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toMatch(/^Bearer realm="stratus", error="invalid_token"/);
  });

  it('401 from the catalog without a token, 403 for a user without the admin role', async () => {
    const body = { name: 'Nope', priceCents: 1, currency: 'USD', stock: 1 };
    const anonymous = await callWorker(gateway, '/api/catalog/products', json(body));
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get('www-authenticate')).toBe('Bearer');
    expect((await callWorker(gateway, '/api/catalog/products', json(body, await bearerFor('usr_c', 'customer')))).status).toBe(403);
  });

  it('the operator token is for /_ops only, not an identity on the API', async () => {
    const response = await callWorker(gateway, '/api/catalog/products', json({ name: 'Nope', priceCents: 1, currency: 'USD', stock: 1 }, { authorization: 'Bearer test-admin-token' }));
    expect(response.status).toBe(401);
  });
});

describe('/health and /ready', () => {
  it('/health is 200 without touching a dependency', async () => {
    const broken = { fetch: () => Promise.reject(new Error('down')) } as unknown as Fetcher;
    const response = await callWorker(gateway, '/health', {}, { CATALOG: broken });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: 'ok' });
  });

  it('/ready is 200 with every service and its D1 up', async () => {
    const response = await callWorker(gateway, '/ready');
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: 'ready', checks: { catalog: { status: 'up' }, 'catalog.db': { status: 'up' }, ...othersUp } });
  });

  it('/ready is 503 when the catalog cannot be reached', async () => {
    const broken = { fetch: () => Promise.reject(new Error('connection refused')) } as unknown as Fetcher;
    const response = await callWorker(gateway, '/ready', {}, { CATALOG: broken });
    expect(response.status).toBe(503);
    // The reason ('connection refused') goes to the log; the public answer only says what is down.
    expect(await response.json()).toEqual({ status: 'not_ready', checks: { catalog: { status: 'down', error: 'unreachable' }, ...othersUp } });
  });

  it('/ready is 503 and names the database when the catalog reports its D1 down', async () => {
    const dbDown = {
      fetch: () =>
        Promise.resolve(Response.json({ status: 'not_ready', checks: { db: { status: 'down', error: 'D1_ERROR: no such table' } } }, { status: 503 })),
    } as unknown as Fetcher;
    const response = await callWorker(gateway, '/ready', {}, { CATALOG: dbDown });
    expect(response.status).toBe(503);
    expect(await response.json()).toEqual({
      status: 'not_ready',
      checks: { catalog: { status: 'down', error: 'not ready (503)' }, 'catalog.db': { status: 'down', error: 'reported down by catalog' }, ...othersUp },
    });
  });

  it('/ready is 503 when the catalog does not answer in time', async () => {
    const hanging = { fetch: (request: Request) => new Promise((_, reject) => request.signal.addEventListener('abort', () => reject(new Error('aborted')))) } as unknown as Fetcher;
    const response = await callWorker(gateway, '/ready', {}, { CATALOG: hanging, READY_TIMEOUT_MS: '50' });
    expect(response.status).toBe(503);
    expect(((await response.json()) as { checks: Record<string, { error: string }> }).checks.catalog?.error).toMatch(/no answer within/);
  });
});
