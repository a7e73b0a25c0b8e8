import { env } from 'cloudflare:workers';
import { beforeAll, describe, expect, it } from 'vitest';
import gateway from '../../workers/gateway/index';
import { bearerFor } from '../support/access-token';
import { callWorker, json } from '../support/call-worker';
import { watchSocket } from '../support/live-socket';

/**
 * GET /api/orders/:id/live through the real gateway: the access token (or a one-time ticket) is
 * checked before the upgrade, `Upgrade` passes for this path only, and the socket the orders
 * service's live object answers with reaches the client. A real WebSocket client inside workerd.
 */
let alice: { authorization: string };
let bob: { authorization: string };

const place = async (auth: Record<string, string>) => {
  const response = await callWorker(gateway, '/api/orders', json({ items: [{ productId: 'prod_e2e_live', quantity: 1 }] }, { ...auth, 'idempotency-key': `k-${crypto.randomUUID()}` }));
  expect(response.status).toBe(202);
  return (await response.json<{ orderId: string }>()).orderId;
};
const live = (orderId: string, headers: Record<string, string>, query = '') =>
  callWorker(gateway, `/api/orders/${orderId}/live${query}`, { headers: { ...headers, upgrade: 'websocket' } });

interface Step {
  name: string;
  status: string;
}

beforeAll(async () => {
  alice = await bearerFor('usr_e2e_live_alice', 'customer');
  bob = await bearerFor('usr_e2e_live_bob', 'customer');
  await env.TEST_CATALOG_DB.exec(
    "INSERT OR IGNORE INTO products (id, name, description, price_cents, currency, stock) VALUES ('prod_e2e_live', 'Stove', '', 4200, 'USD', 50)",
  );
});

describe('an order live through the gateway', () => {
  it('a client with the access token gets the state, reserve, charge and confirm in order, COMPLETED, and the close', async () => {
    const orderId = await place(alice);
    const watcher = watchSocket(await live(orderId, alice));
    expect((await watcher.closed()).code).toBe(1000);
    const [state, ...rest] = watcher.messages as [{ type: string; steps: Step[] }, ...{ type: string; name?: string; status: string }[]];
    expect(state.type).toBe('state');
    // However far the saga got before the socket opened: the steps the state showed ended, then
    // the rest as they ended, each once, in the saga's order; the final status last.
    const endedBefore = state.steps.filter((s) => s.status === 'succeeded').map((s) => s.name);
    const endedLive = rest.filter((m) => m.type === 'step').map((m) => m.name);
    expect([...endedBefore, ...endedLive]).toEqual(['reserve', 'charge', 'confirm']);
    // The last word is COMPLETED: a `status` message, or the state itself if the saga ended first
    // (the orders project's order-live.test.ts slows the catalog to see every step arrive live).
    expect(watcher.messages.at(-1)).toMatchObject({ status: 'COMPLETED' });
  });

  it('is refused before the upgrade: no token 401, a bad token 401, someone else 404', async () => {
    const orderId = await place(alice);
    for (const [headers, status] of [
      [{}, 401],
      [{ authorization: 'Bearer not-a-token' }, 401],
      [bob, 404],
    ] as const) {
      const response = await live(orderId, headers);
      expect(response.status).toBe(status);
      expect(response.webSocket).toBeNull();
      expect(response.headers.get('content-type')).toMatch(/problem\+json/);
    }
  });

  it('a browser-style client: a ticket from POST .../live/ticket opens one socket without a header, once', async () => {
    const orderId = await place(alice);
    const issued = await callWorker(gateway, `/api/orders/${orderId}/live/ticket`, { method: 'POST', headers: alice });
    expect(issued.status).toBe(201);
    const { ticket } = await issued.json<{ ticket: string }>();
    const watcher = watchSocket(await live(orderId, {}, `?ticket=${ticket}`));
    expect((await watcher.closed()).code).toBe(1000);
    // A `status` message, or the state itself when the saga ended before the socket opened.
    expect(watcher.messages.at(-1)).toMatchObject({ status: 'COMPLETED' });
    expect((await live(orderId, {}, `?ticket=${ticket}`)).status).toBe(401);
    expect((await callWorker(gateway, `/api/orders/${orderId}/live/ticket`, { method: 'POST', headers: bob })).status).toBe(404);
  });

  it('Upgrade is stripped everywhere else: GET /api/orders/:id with it is a plain answer', async () => {
    const orderId = await place(alice);
    const response = await callWorker(gateway, `/api/orders/${orderId}`, { headers: { ...alice, upgrade: 'websocket' } });
    expect(response.status).toBe(200);
    expect(response.webSocket).toBeNull();
    expect((await response.json<{ orderId: string }>()).orderId).toBe(orderId);
  });
});
