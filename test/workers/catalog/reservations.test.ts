import { env } from 'cloudflare:workers';
import { beforeEach, describe, expect, it } from 'vitest';
import { callWorker, json } from '../../support/call-worker';
import catalogWorker from '../../../workers/catalog/index';
import {
  asAdmin,
  asCustomer,
  commitReservation,
  problemOf,
  releaseReservation,
  reserve,
  seedProducts,
  stockOf,
  viaGatewayCatalog,
  type ReservationAnswer,
  type ReservationStatusAnswer,
} from './inventory-support';

beforeEach(async () => {
  await seedProducts([
    { id: 'p1', stock: 10 },
    { id: 'p2', stock: 3 },
    { id: 'p3', stock: 0 },
  ]);
});

const statusOf = async (id: string) =>
  (await env.DB.prepare('SELECT status FROM reservations WHERE id = ?').bind(id).first<{ status: string }>())?.status;

describe('POST /inventory/reservations', () => {
  it('reserves every item: 201, the stock taken', async () => {
    const response = await reserve('ord_1', [
      { productId: 'p1', quantity: 4 },
      { productId: 'p2', quantity: 3 },
    ]);
    expect(response.status).toBe(201);
    expect(response.headers.get('idempotent-replayed')).toBeNull();
    expect((await response.json()) satisfies ReservationAnswer).toEqual({
      reservationId: 'ord_1',
      status: 'reserved',
      items: [
        { productId: 'p1', quantity: 4 },
        { productId: 'p2', quantity: 3 },
      ],
    });
    expect(await stockOf('p1')).toBe(6);
    expect(await stockOf('p2')).toBe(0);
  });

  it('adds up lines naming the same product', async () => {
    const response = await reserve('ord_1', [
      { productId: 'p1', quantity: 2 },
      { productId: 'p1', quantity: 3 },
    ]);
    expect(((await response.json()) as ReservationAnswer).items).toEqual([{ productId: 'p1', quantity: 5 }]);
    expect(await stockOf('p1')).toBe(5);
  });

  it('is all-or-nothing: one short item refuses the whole reservation with 409 out-of-stock, taking nothing', async () => {
    const response = await reserve('ord_1', [
      { productId: 'p1', quantity: 5 },
      { productId: 'p2', quantity: 4 },
    ]);
    expect(response.status).toBe(409);
    const problem = await problemOf(response);
    expect(problem.type).toBe('/problems/out-of-stock');
    expect(problem.detail).toContain('p2 (asked 4, 3 left)');
    expect(await stockOf('p1')).toBe(10);
    expect(await stockOf('p2')).toBe(3);
    expect(await env.DB.prepare('SELECT count(*) AS n FROM reservation_items').first('n')).toBe(0);
  });

  it('refuses an unknown product with 404, taking nothing and recording nothing', async () => {
    const response = await reserve('ord_1', [
      { productId: 'p1', quantity: 1 },
      { productId: 'nope', quantity: 1 },
    ]);
    expect(response.status).toBe(404);
    expect((await problemOf(response)).detail).toContain('nope');
    expect(await stockOf('p1')).toBe(10);
    expect(await statusOf('ord_1')).toBeUndefined();
  });

  it('100 concurrent reservations of one unit over a stock of 10: exactly 10 succeed, stock ends at 0', async () => {
    const responses = await Promise.all(Array.from({ length: 100 }, (_, i) => reserve(`ord_${i}`, [{ productId: 'p1', quantity: 1 }])));
    const statuses = responses.map((r) => r.status);
    expect(statuses.filter((s) => s === 201)).toHaveLength(10);
    expect(statuses.filter((s) => s === 409)).toHaveLength(90);
    for (const response of responses.filter((r) => r.status === 409)) expect((await problemOf(response)).type).toBe('/problems/out-of-stock');
    expect(await stockOf('p1')).toBe(0);
    const held = await env.DB.prepare("SELECT coalesce(sum(quantity), 0) AS n FROM reservation_items ri JOIN reservations r ON r.id = ri.reservation_id WHERE r.status = 'reserved'").first('n');
    expect(held).toBe(10);
  });

  it('concurrent multi-item reservations never oversell any product', async () => {
    // Each wants 1 of p1 and 1 of p2: p2 (3) is the limit, and p1 must not be taken by the refused ones.
    const responses = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        reserve(`ord_${i}`, [
          { productId: 'p1', quantity: 1 },
          { productId: 'p2', quantity: 1 },
        ]),
      ),
    );
    expect(responses.filter((r) => r.status === 201)).toHaveLength(3);
    expect(await stockOf('p2')).toBe(0);
    expect(await stockOf('p1')).toBe(7);
  });

  it('replays the same request with the same answer, taking stock once', async () => {
    const items = [{ productId: 'p1', quantity: 2 }];
    const first = await reserve('ord_1', items);
    const again = await reserve('ord_1', items);
    expect(again.status).toBe(201);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(await again.json()).toEqual(await first.json());
    expect(await stockOf('p1')).toBe(8);
  });

  it('answers concurrent duplicates alike, taking stock once', async () => {
    const items = [{ productId: 'p1', quantity: 2 }];
    const responses = await Promise.all(Array.from({ length: 10 }, () => reserve('ord_1', items)));
    expect(responses.map((r) => r.status)).toEqual(Array(10).fill(201));
    expect(responses.filter((r) => r.headers.get('idempotent-replayed') === null)).toHaveLength(1);
    expect(await stockOf('p1')).toBe(8);
  });

  it('answers a refused reservation asked again with the same 409, even once stock is back', async () => {
    expect((await reserve('ord_1', [{ productId: 'p3', quantity: 1 }])).status).toBe(409);
    await env.DB.exec("UPDATE products SET stock = 5 WHERE id = 'p3'");
    const again = await reserve('ord_1', [{ productId: 'p3', quantity: 1 }]);
    expect(again.status).toBe(409);
    expect((await problemOf(again)).type).toBe('/problems/out-of-stock');
    expect(await stockOf('p3')).toBe(5);
  });

  it('refuses the same id with other items, or the same key for another id, with 422', async () => {
    await reserve('ord_1', [{ productId: 'p1', quantity: 1 }], 'k1');
    const otherItems = await reserve('ord_1', [{ productId: 'p1', quantity: 2 }], 'k2');
    expect(otherItems.status).toBe(422);
    expect((await problemOf(otherItems)).type).toBe('/problems/idempotency-key-reused');
    const otherId = await reserve('ord_2', [{ productId: 'p1', quantity: 1 }], 'k1');
    expect(otherId.status).toBe(422);
    expect(await stockOf('p1')).toBe(9);
  });

  it('needs an Idempotency-Key (400) and valid items (400)', async () => {
    const noKey = await callWorker(viaGatewayCatalog, '/inventory/reservations', json({ reservationId: 'ord_1', items: [{ productId: 'p1', quantity: 1 }] }, asAdmin));
    expect(noKey.status).toBe(400);
    const zero = await reserve('ord_1', [{ productId: 'p1', quantity: 0 }]);
    expect(zero.status).toBe(400);
    expect((await problemOf(zero)).errors?.[0]?.path).toBe('items.0.quantity');
    expect((await reserve('ord_1', [])).status).toBe(400);
  });
});

describe('commit and release', () => {
  beforeEach(async () => {
    expect((await reserve('ord_1', [{ productId: 'p1', quantity: 4 }, { productId: 'p2', quantity: 1 }])).status).toBe(201);
  });

  it('commits: 200 committed, the stock stays sold; committing again answers the same', async () => {
    for (let i = 0; i < 2; i++) {
      const response = await commitReservation('ord_1');
      expect(response.status).toBe(200);
      expect((await response.json()) satisfies ReservationStatusAnswer).toEqual({ reservationId: 'ord_1', status: 'committed' });
    }
    expect(await stockOf('p1')).toBe(6);
    expect(await statusOf('ord_1')).toBe('committed');
  });

  it('releases: 200 released, the stock back exactly once however often it is released', async () => {
    for (let i = 0; i < 3; i++) {
      const response = await releaseReservation('ord_1');
      expect(response.status).toBe(200);
      expect(await response.json()).toEqual({ reservationId: 'ord_1', status: 'released' });
    }
    expect(await stockOf('p1')).toBe(10);
    expect(await stockOf('p2')).toBe(3);
  });

  it('gives the stock back once under concurrent releases', async () => {
    const responses = await Promise.all(Array.from({ length: 10 }, () => releaseReservation('ord_1')));
    expect(responses.map((r) => r.status)).toEqual(Array(10).fill(200));
    expect(await stockOf('p1')).toBe(10);
    expect(await stockOf('p2')).toBe(3);
  });

  it('refuses a commit after a release (409 reservation-released) and a release after a commit (409 reservation-committed)', async () => {
    await releaseReservation('ord_1');
    const commitAfter = await commitReservation('ord_1');
    expect(commitAfter.status).toBe(409);
    expect((await problemOf(commitAfter)).type).toBe('/problems/reservation-released');
    expect(await stockOf('p1')).toBe(10);

    expect((await reserve('ord_2', [{ productId: 'p1', quantity: 1 }])).status).toBe(201);
    expect((await commitReservation('ord_2')).status).toBe(200);
    for (let i = 0; i < 2; i++) {
      const releaseAfter = await releaseReservation('ord_2');
      expect(releaseAfter.status).toBe(409);
      expect((await problemOf(releaseAfter)).type).toBe('/problems/reservation-committed');
    }
    expect(await stockOf('p1')).toBe(9);
  });

  it('refuses a reserve replayed after its release (409 reservation-released), taking nothing', async () => {
    await releaseReservation('ord_1');
    const late = await reserve('ord_1', [{ productId: 'p1', quantity: 4 }, { productId: 'p2', quantity: 1 }]);
    expect(late.status).toBe(409);
    expect((await problemOf(late)).type).toBe('/problems/reservation-released');
    expect(await stockOf('p1')).toBe(10);
  });

  it('404s a commit of a reservation never made', async () => {
    const response = await commitReservation('ord_unknown');
    expect(response.status).toBe(404);
    await problemOf(response);
  });

  it('releases a refused reservation without giving anything back', async () => {
    expect((await reserve('ord_9', [{ productId: 'p3', quantity: 1 }])).status).toBe(409);
    expect((await releaseReservation('ord_9')).status).toBe(200);
    expect(await stockOf('p3')).toBe(0);
    const commitRefused = await commitReservation('ord_9');
    expect(commitRefused.status).toBe(409);
  });
});

describe('release before reserve (the tombstone)', () => {
  it('records a tombstone: 200 released, and the late reserve is refused with 409 reservation-released', async () => {
    const early = await releaseReservation('ord_late');
    expect(early.status).toBe(200);
    expect(await early.json()).toEqual({ reservationId: 'ord_late', status: 'released' });
    expect(await statusOf('ord_late')).toBe('released');

    const late = await reserve('ord_late', [{ productId: 'p1', quantity: 2 }]);
    expect(late.status).toBe(409);
    expect((await problemOf(late)).type).toBe('/problems/reservation-released');
    expect(await stockOf('p1')).toBe(10);
    // And it stays released: releasing again is the same answer, committing is refused.
    expect((await releaseReservation('ord_late')).status).toBe(200);
    expect((await commitReservation('ord_late')).status).toBe(409);
  });

  it('a release racing its reserve leaves the stock whole either way', async () => {
    const [reserved, released] = await Promise.all([reserve('ord_race', [{ productId: 'p1', quantity: 3 }]), releaseReservation('ord_race')]);
    expect(released.status).toBe(200);
    expect([201, 409]).toContain(reserved.status);
    expect(await stockOf('p1')).toBe(10);
    expect(await statusOf('ord_race')).toBe('released');
  });
});

describe('who may call /inventory', () => {
  const body = json({ reservationId: 'ord_1', items: [{ productId: 'p1', quantity: 1 }] }, { 'idempotency-key': 'k-auth' });

  it('the order saga (issuer stratus-orders) and an admin may; a customer may not (403), nor an anonymous caller (401)', async () => {
    expect((await callWorker(viaGatewayCatalog, '/inventory/reservations', { ...body, headers: { ...body.headers, ...asAdmin } })).status).toBe(201);
    const customer = await callWorker(viaGatewayCatalog, '/inventory/reservations', { ...body, headers: { ...body.headers, ...asCustomer } });
    expect(customer.status).toBe(403);
    expect((await callWorker(viaGatewayCatalog, '/inventory/reservations', body)).status).toBe(401);
    expect(await stockOf('p1')).toBe(9);
  });

  it('refuses a call without a service token (401)', async () => {
    expect((await callWorker(catalogWorker, '/inventory/reservations', body)).status).toBe(401);
  });
});
