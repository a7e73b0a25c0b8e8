import type { RouteConfig } from '@hono/zod-openapi';
import { env } from 'cloudflare:workers';
import { beforeAll, describe, expect, it } from 'vitest';
import type { ZodType } from 'zod';
import gateway from '../../../workers/gateway/index';
import { publicOperations } from '../../../workers/gateway/openapi/document';
import { bearerFor } from '../../support/access-token';
import { callWorker, json, testEnv } from '../../support/call-worker';

/**
 * The document against the running gateway: real answers, through the real gateway and services,
 * must have a status the document lists for that operation, and a body that parses with the
 * schema it gives for that status. So the response schemas are checked against what the code
 * sends, not only against their own examples.
 */

let operations: RouteConfig[];
const operator = { authorization: 'Bearer test-admin-token' };

/** Calls `path` and checks the answer against the description of `method template`; returns the body. */
async function conforms(method: string, template: string, path: string, init: RequestInit = {}, bindings: Partial<Cloudflare.Env> = {}): Promise<unknown> {
  const operation = operations.find((o) => o.method === method && o.path === template);
  expect(operation, `${method} ${template} is described`).toBeDefined();
  const response = await callWorker(gateway, path, { ...init, method: method.toUpperCase() }, bindings);
  const at = `${method.toUpperCase()} ${path} → ${response.status}`;
  const described = operation?.responses[String(response.status)];
  expect(described, `${at} is a documented status`).toBeDefined();
  const type = (response.headers.get('content-type') ?? '').split(';')[0] ?? '';
  const media = (described && 'content' in described ? described.content : undefined) as Record<string, { schema?: ZodType }> | undefined;
  if (!media || response.status === 204) return undefined;
  const schema = media[type]?.schema;
  expect(schema, `${at}: ${type} is a documented content type`).toBeDefined();
  const body = type.endsWith('json') ? await response.json() : await response.text();
  const parsed = schema?.safeParse(body);
  expect(parsed?.success, `${at}: ${JSON.stringify(parsed?.error?.issues)} in ${JSON.stringify(body).slice(0, 500)}`).toBe(true);
  return body;
}

let customer: Record<string, string>;
let admin: Record<string, string>;

beforeAll(async () => {
  operations = publicOperations();
  customer = await bearerFor('usr_conformance', 'customer');
  admin = await bearerFor('usr_conformance_admin', 'admin');
  await env.TEST_CATALOG_DB.exec(
    "INSERT OR IGNORE INTO products (id, name, description, price_cents, currency, stock) VALUES ('prod_conformance', 'Compass', '', 2500, 'USD', 50)",
  );
});

describe('the gateway answers as /openapi.json says', () => {
  it("the gateway's own endpoints", async () => {
    await conforms('get', '/health', '/health');
    await conforms('get', '/ready', '/ready');
    await conforms('get', '/metrics', '/metrics');
    await conforms('get', '/api/flags', '/api/flags');
    await conforms('get', '/bff/web/home', '/bff/web/home');
    await conforms('get', '/bff/mobile/home', '/bff/mobile/home', { headers: customer });
    await conforms('get', '/_ops/breakers', '/_ops/breakers', { headers: operator });
    await conforms('get', '/_ops/breakers', '/_ops/breakers');
    await conforms('get', '/_ops/routes', '/_ops/routes', { headers: operator });
    await conforms('put', '/_ops/routes/{name}', '/_ops/routes/catalog', json({ weights: { v1: 100, v2: 0 } }, operator));
    await conforms('put', '/_ops/routes/{name}', '/_ops/routes/catalog', json({ weights: { v1: 50 } }, operator));
    await conforms('get', '/_ops/sagas', '/_ops/sagas', { headers: operator });
    await conforms('get', '/_ops/dlq', '/_ops/dlq', { headers: operator });
    await conforms('put', '/_ops/chaos/{service}', '/_ops/chaos/catalog', json({ failureRate: 0.5 }, operator));
    // Fault injection where it is allowed (as under `npm run dev`), then off again at once: the
    // catalog is called by the tests below.
    const chaosAllowed = testEnv({ ALLOW_CHAOS: 'true' });
    await conforms('get', '/_ops/chaos', '/_ops/chaos', { headers: operator });
    await conforms('put', '/_ops/chaos/{service}', '/_ops/chaos/catalog', json({ failureRate: 0.5 }, operator), chaosAllowed);
    const chaos = (await conforms('get', '/_ops/chaos', '/_ops/chaos', { headers: operator }, chaosAllowed)) as Record<string, unknown>;
    expect(chaos.catalog).toMatchObject({ failureRate: 0.5 });
    await conforms('delete', '/_ops/chaos/{service}', '/_ops/chaos/catalog', { headers: operator }, chaosAllowed);
    await conforms('get', '/_ops/metrics', '/_ops/metrics', { headers: operator });
    await conforms('get', '/_ops/metrics', '/_ops/metrics');
    await conforms('get', '/_ops/projections/{name}', '/_ops/projections/balances', { headers: operator });
    await conforms('post', '/_ops/projections/{name}/rebuild', '/_ops/projections/nope/rebuild', { headers: operator });
    await conforms('get', '/openapi.json', '/openapi.json');
    await conforms('get', '/docs', '/docs');
  });

  it('the release endpoints: feature flags and canary rollouts', async () => {
    await conforms('get', '/_ops/flags', '/_ops/flags', { headers: operator });
    await conforms('put', '/_ops/flags/{key}', '/_ops/flags/conformance', { ...json({ enabled: true, rolloutPercent: 5, allow: ['usr_conformance'] }, operator), method: 'PUT' });
    await conforms('put', '/_ops/flags/{key}', '/_ops/flags/conformance', { ...json({ enabled: true, rolloutPercent: 500 }, operator), method: 'PUT' });
    await conforms('get', '/_ops/flags', '/_ops/flags', { headers: operator });
    await conforms('delete', '/_ops/flags/{key}', '/_ops/flags/conformance', { headers: operator });
    await conforms('delete', '/_ops/flags/{key}', '/_ops/flags/conformance', { headers: operator });
    await conforms('get', '/_ops/rollouts', '/_ops/rollouts', { headers: operator });
    await conforms('post', '/_ops/rollouts/{route}', '/_ops/rollouts/catalog', json({ steps: [10, 50] }, operator));
    await conforms('post', '/_ops/rollouts/{route}', '/_ops/rollouts/catalog', json({ steps: [10, 100], holdSeconds: 600, maxErrorRate: 0.01, maxP99Ms: 800 }, operator));
    await conforms('get', '/_ops/rollouts/{route}', '/_ops/rollouts/catalog', { headers: operator });
    await conforms('get', '/_ops/rollouts', '/_ops/rollouts', { headers: operator });
    await conforms('delete', '/_ops/rollouts/{route}', '/_ops/rollouts/catalog', { headers: operator });
    await conforms('delete', '/_ops/rollouts/{route}', '/_ops/rollouts/catalog', { headers: operator });
    await conforms('get', '/_ops/rollouts/{route}', '/_ops/rollouts/nope', { headers: operator });
    await env.ROLLOUTS.get(env.ROLLOUTS.idFromName('catalog')).clear();
    await env.ROUTE_WEIGHTS.get(env.ROUTE_WEIGHTS.idFromName('catalog')).clear();
  });

  it('users and catalog', async () => {
    const email = `conformance-${crypto.randomUUID()}@example.com`;
    await conforms('post', '/api/users/register', '/api/users/register', json({ email, password: 'a long enough password' }));
    await conforms('post', '/api/users/register', '/api/users/register', json({ email, password: 'a long enough password' }));
    await conforms('post', '/api/users/register', '/api/users/register', json({ email: 'nope', password: 'short' }));
    const tokens = (await conforms('post', '/api/users/login', '/api/users/login', json({ email, password: 'a long enough password' }))) as { accessToken: string; refreshToken: string };
    await conforms('post', '/api/users/login', '/api/users/login', json({ email, password: 'the wrong password' }));
    const me = { authorization: `Bearer ${tokens.accessToken}` };
    await conforms('get', '/api/users/me', '/api/users/me', { headers: me });
    const fresh = (await conforms('post', '/api/users/refresh', '/api/users/refresh', json({ refreshToken: tokens.refreshToken }))) as { refreshToken: string };
    await conforms('post', '/api/users/refresh', '/api/users/refresh', json({ refreshToken: tokens.refreshToken }));
    await conforms('post', '/api/users/logout', '/api/users/logout', json({ refreshToken: fresh.refreshToken }));
    await conforms('get', '/.well-known/jwks.json', '/.well-known/jwks.json');

    await conforms('get', '/api/catalog/products', '/api/catalog/products?limit=2');
    await conforms('get', '/api/catalog/products/popular', '/api/catalog/products/popular');
    await conforms('get', '/api/catalog/products/{id}', '/api/catalog/products/prod_conformance');
    await conforms('get', '/api/catalog/products/{id}', '/api/catalog/products/prod_none');
    const created = (await conforms('post', '/api/catalog/products', '/api/catalog/products', json({ name: 'Map', priceCents: 900, currency: 'USD', stock: 3 }, admin))) as { id: string };
    await conforms('post', '/api/catalog/products', '/api/catalog/products', json({ name: 'Map', priceCents: 900, currency: 'USD', stock: 3 }, customer));
    await conforms('put', '/api/catalog/products/{id}', `/api/catalog/products/${created.id}`, json({ stock: 4 }, admin));
    await conforms('put', '/api/catalog/products/{id}', `/api/catalog/products/${created.id}`, json({}, admin));
  });

  it('orders and payments', async () => {
    const placed = (await conforms('post', '/api/orders', '/api/orders', json({ items: [{ productId: 'prod_conformance', quantity: 1 }] }, { ...customer, 'idempotency-key': `k-${crypto.randomUUID()}` }))) as {
      orderId: string;
    };
    await conforms('post', '/api/orders', '/api/orders', json({ items: [{ productId: 'prod_conformance', quantity: 1 }] }, customer));
    await conforms('post', '/api/orders', '/api/orders', json({ items: [] }, { ...customer, 'idempotency-key': `k-${crypto.randomUUID()}` }));
    await conforms('post', '/api/orders', '/api/orders', json({ items: [] }));
    await conforms('get', '/api/orders/{id}', `/api/orders/${placed.orderId}`, { headers: customer });
    await conforms('get', '/api/orders/{id}', `/api/orders/${placed.orderId}`, { headers: admin });
    await conforms('get', '/api/orders', '/api/orders', { headers: customer });
    await conforms('post', '/api/orders/{id}/live/ticket', `/api/orders/${placed.orderId}/live/ticket`, { headers: customer });
    await conforms('post', '/api/orders/{id}/live/ticket', `/api/orders/${placed.orderId}/live/ticket`, { headers: await bearerFor('usr_conformance_other', 'customer') });
    await conforms('get', '/api/orders/{id}/live', `/api/orders/${placed.orderId}/live`, { headers: customer });
    await conforms('get', '/api/notifications', '/api/notifications?limit=5', { headers: customer });
    await conforms('get', '/api/notifications', '/api/notifications?limit=500', { headers: customer });
    await conforms('get', '/api/payments', `/api/payments?orderId=${placed.orderId}`, { headers: customer });
    await conforms('get', '/api/payments', '/api/payments', { headers: customer });
  });

  it('the ledger', async () => {
    const opened = (await conforms('post', '/api/ledger/accounts', '/api/ledger/accounts', json({ owner: 'ada', currency: 'EUR', initialDepositCents: 1_000 }, customer))) as { accountId: string };
    const account = `/api/ledger/accounts/${opened.accountId}`;
    await conforms('post', '/api/ledger/accounts/{id}/deposits', `${account}/deposits`, json({ amountCents: 500 }, { ...customer, 'idempotency-key': 'conformance-1' }));
    await conforms('post', '/api/ledger/accounts/{id}/deposits', `${account}/deposits`, json({ amountCents: 500 }, { ...customer, 'if-match': '"1"' }));
    await conforms('post', '/api/ledger/accounts/{id}/withdrawals', `${account}/withdrawals`, json({ amountCents: 999_999 }, customer));
    await conforms('post', '/api/ledger/accounts/{id}/withdrawals', `${account}/withdrawals`, json({ amountCents: 'abc' }, customer));
    await conforms('get', '/api/ledger/accounts/{id}', account, { headers: customer });
    await conforms('get', '/api/ledger/accounts/{id}', `${account}?asOfVersion=1`, { headers: customer });
    await conforms('get', '/api/ledger/accounts/{id}', account, { headers: admin });
    await conforms('get', '/api/ledger/accounts/{id}/transactions', `${account}/transactions?limit=1`, { headers: customer });
    await conforms('get', '/api/ledger/top', '/api/ledger/top', { headers: admin });
    await conforms('get', '/api/ledger/top', '/api/ledger/top', { headers: customer });
    await conforms('post', '/api/ledger/accounts/{id}/freeze', `${account}/freeze`, { headers: customer });
    await conforms('get', '/api/ledger/accounts/{id}', account);
  });
});

describe('the traces and logs views answer as /openapi.json says', () => {
  it('traces and logs: no trace store here (503), one that does not answer (502), bad input (400), no token (401)', async () => {
    await conforms('get', '/_ops/traces', '/_ops/traces?status=5xx', { headers: operator });
    await conforms('get', '/_ops/traces', '/_ops/traces?status=bad', { headers: operator });
    await conforms('get', '/_ops/traces/{traceId}', '/_ops/traces/4bf92f3577b34da6a3ce929d0e0e4736', { headers: { ...operator, accept: 'application/json' } });
    await conforms('get', '/_ops/traces/{traceId}', '/_ops/traces/not-a-trace', { headers: operator });
    await conforms('get', '/_ops/logs', '/_ops/logs?requestId=r1', { headers: operator }, testEnv({ OTEL_QUERY_URL: 'http://127.0.0.1:1' }));
    await conforms('get', '/_ops/logs', '/_ops/logs?level=loud', { headers: operator });
    await conforms('get', '/_ops/logs', '/_ops/logs');
  });
});
