import { beforeAll, describe, expect, it } from 'vitest';
import gateway from '../../workers/gateway/index';
import { bearerFor } from '../support/access-token';
import { callWorker } from '../support/call-worker';

/**
 * The same baseline in every worker (createServiceApp): security headers, 413 over the body
 * limit, 415 for a body that is not JSON, 400 with field errors, problem+json, and CORS only for
 * listed origins. One table, every public write, so a worker that drifts fails here.
 */
let admin: Record<string, string>;
beforeAll(async () => {
  admin = await bearerFor('usr_demo', 'customer', 'admin');
});

const writes = [
  { path: '/api/catalog/products', body: { name: '' } },
  { path: '/api/users/register', body: { email: 'not-an-email', password: 'short' } },
  { path: '/api/payments/charges', body: { orderId: '', amountCents: -1, currency: 'eur' }, headers: { 'idempotency-key': 'hardening-1' } },
];

const problem = async (response: Response) => {
  expect(response.headers.get('content-type')).toBe('application/problem+json');
  return (await response.json()) as { status: number; type: string; errors?: { path: string }[] };
};

describe('every service answers bad input the same way', () => {
  it.each(writes)('$path: 415 for text, 400 with field errors for invalid JSON fields, 413 over the limit', async ({ path, body, headers = {} }) => {
    const send = (init: { contentType: string; body: string }) =>
      callWorker(gateway, path, { method: 'POST', headers: { ...admin, ...headers, 'content-type': init.contentType, 'cf-connecting-ip': '198.51.100.7' }, body: init.body });
    expect((await problem(await send({ contentType: 'text/plain', body: 'hello' }))).status).toBe(415);
    const invalid = await problem(await send({ contentType: 'application/json', body: JSON.stringify(body) }));
    expect(invalid.status).toBe(400);
    expect(invalid.errors?.length).toBeGreaterThan(0);
    expect((await problem(await send({ contentType: 'application/json', body: '{"broken":' }))).status).toBe(400);
    expect((await problem(await send({ contentType: 'application/json', body: JSON.stringify({ pad: 'x'.repeat(1_100_000) }) }))).status).toBe(413);
  });

  it('security headers on answers from every service, and on the gateway’s own', async () => {
    for (const path of ['/api/catalog/products?limit=1', '/.well-known/jwks.json', '/health', '/api/nope']) {
      const response = await callWorker(gateway, path);
      expect(response.headers.get('x-content-type-options')).toBe('nosniff');
      expect(response.headers.get('x-frame-options')).toBe('SAMEORIGIN');
      expect(response.headers.get('strict-transport-security')).toMatch(/max-age=/);
    }
  });

  it('CORS grants only listed origins', async () => {
    const allowed = await callWorker(gateway, '/api/catalog/products?limit=1', { headers: { origin: 'https://app.example' } });
    expect(allowed.headers.get('access-control-allow-origin')).toBe('https://app.example');
    const other = await callWorker(gateway, '/api/catalog/products?limit=1', { headers: { origin: 'https://evil.example' } });
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
  });
});
