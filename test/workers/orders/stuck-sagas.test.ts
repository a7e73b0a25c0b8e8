import { createExecutionContext, createScheduledController, runDurableObjectAlarm, runInDurableObject, waitOnExecutionContext } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { beforeEach, describe, expect, it } from 'vitest';
import { startSaga } from '../../../shared/saga/saga';
import worker from '../../../workers/orders/index';
import { OrderRecords } from '../../../workers/orders/order-records';
import { orderSagaPlan } from '../../../workers/orders/order-saga-config';
import type { PlacedOrder } from '../../../workers/orders/placed-order';
import { callWorker, json } from '../../support/call-worker';
import { admin, alice, chaos, newKey, orders, outboxTypes, paymentsOf, placeOrder, seedProducts, settled, until, type OrderView } from './support';

const sagaOf = (orderId: string) => env.ORDER_SAGA.get(env.ORDER_SAGA.idFromName(orderId));
const operate = (orderId: string, action: string, body: unknown = {}) => callWorker(orders, `/sagas/${orderId}/${action}`, json(body, admin));
const names = (order: OrderView) => order.saga.steps.map((step) => `${step.name}:${step.status}`);

/** Runs the orders worker's cron once, as the runtime would, and waits for its background work. */
async function cronTick(scheduledTime = Date.now()): Promise<void> {
  const ctx = createExecutionContext();
  await worker.scheduled(createScheduledController({ scheduledTime, cron: '* * * * *' }), env, ctx);
  await waitOnExecutionContext(ctx);
}

beforeEach(async () => {
  await chaos('payments', null);
  await chaos('catalog', null);
  await seedProducts([{ id: 'prod_lamp', stock: 5, priceCents: 2_500 }]);
});

/**
 * A saga whose refund payments refuse for good: the charge fails in transit until the saga's
 * deadline (5 s here), so it compensates and refunds by key; payments then answer 409 to it.
 */
async function sagaStuckOnRefund(): Promise<string> {
  await chaos('payments', { failureRate: 1, status: 503 });
  const { orderId } = await (await placeOrder({ items: [{ productId: 'prod_lamp', quantity: 1 }] })).json<{ orderId: string }>();
  await until(orderId, (order) => order.status === 'COMPENSATING', 10_000);
  await chaos('payments', { failureRate: 1, status: 409 });
  return orderId;
}

describe('stuck sagas', () => {
  it('a compensation refused for good is STUCK at once: in the read model, its timeline, the list and the counts; then parked', async () => {
    const orderId = await sagaStuckOnRefund();
    const stuck = await until(orderId, (order) => order.status === 'STUCK', 10_000);
    expect(names(stuck)).toContain('stuck:stuck');
    expect(stuck.saga.steps.find((step) => step.name === 'refund')).toMatchObject({ status: 'running' });

    const listed = await (await callWorker(orders, '/sagas?status=STUCK', { headers: admin })).json<{ items: { orderId: string }[] }>();
    expect(listed.items.map((item) => item.orderId)).toContain(orderId);
    const counts = await (await callWorker(orders, '/sagas/counts', { headers: admin })).json<Record<string, number>>();
    expect(counts.STUCK).toBeGreaterThanOrEqual(1);

    // Parked: no alarm retries what was refused for good.
    expect(await runInDurableObject(sagaOf(orderId), (_instance, state) => state.storage.getAlarm())).toBeNull();
    await chaos('payments', null);
  });

  it('"retry now" runs the refused step again and the saga goes on to CANCELLED, recorded in its timeline', async () => {
    const orderId = await sagaStuckOnRefund();
    await until(orderId, (order) => order.status === 'STUCK', 10_000);
    // Compensating already: turning back again does not apply.
    expect((await operate(orderId, 'compensate')).status).toBe(409);

    await chaos('payments', null);
    const retried = await operate(orderId, 'retry', { note: 'payments fixed the refund' });
    expect(retried.status).toBe(200);
    const order = await settled(orderId);
    expect(order.status).toBe('CANCELLED');
    expect(names(order)).toEqual(expect.arrayContaining(['refund:succeeded', 'release:succeeded', 'cancel:succeeded', 'stuck:stuck', 'operator:retry:retried']));
    expect(order.saga.steps.find((step) => step.name === 'operator:retry')).toMatchObject({ note: 'payments fixed the refund' });
    expect((await outboxTypes(orderId)).sort()).toEqual(['order.cancelled', 'order.placed']);
  });

  it('"resolve" closes a STUCK saga by hand: CANCELLED with its event, the note in its timeline', async () => {
    const orderId = await sagaStuckOnRefund();
    await until(orderId, (order) => order.status === 'STUCK', 10_000);
    const resolved = await operate(orderId, 'resolve', { note: 'refunded by hand in the processor' });
    expect(resolved.status).toBe(200);
    const order = await resolved.json<OrderView>();
    expect(order.status).toBe('CANCELLED');
    expect(names(order)).toEqual(expect.arrayContaining(['refund:skipped', 'release:skipped', 'cancel:skipped', 'operator:resolve:resolved']));
    expect((await outboxTypes(orderId)).sort()).toEqual(['order.cancelled', 'order.placed']);
    // Resolved is final: another action does not apply.
    expect((await operate(orderId, 'retry')).status).toBe(409);
    await chaos('payments', null);
  });

  it('operator actions: bad input is 400, an unknown saga 404, customers 403', async () => {
    expect((await operate('ord_00000000000000000000000000000000', 'retry')).status).toBe(404);
    expect((await operate('ord_00000000000000000000000000000000', 'explode')).status).toBe(400);
    expect((await operate('ord_00000000000000000000000000000000', 'resolve', { note: 7 })).status).toBe(400);
    expect((await callWorker(orders, '/sagas/ord_00000000000000000000000000000000/retry', json({}, alice))).status).toBe(403);
  });
});

describe('the cron sweep for lost alarms', () => {
  it('re-arms an unfinished saga whose alarm was lost, which then runs to its end', async () => {
    // A saga stored and recorded whose alarm never got armed (the object died in between), idle
    // for long: nothing but the sweep would ever run it again.
    const orderId = `ord_${crypto.randomUUID().replaceAll('-', '')}`;
    const order: PlacedOrder = {
      orderId,
      userId: 'usr_alice',
      idempotencyKey: newKey(),
      fingerprint: 'f',
      items: [{ productId: 'prod_lamp', quantity: 1, unitPriceCents: 2_500 }],
      totalCents: 2_500,
      currency: 'USD',
      placedAt: new Date().toISOString(),
      requestId: 'req_sweep',
    };
    const saga = startSaga(orderSagaPlan(env), orderId, Date.now());
    await new OrderRecords(env.DB).record(order, saga);
    await env.DB.prepare("UPDATE orders SET updated_at = '2000-01-01T00:00:00.000Z' WHERE id = ?").bind(orderId).run();
    await runInDurableObject(sagaOf(orderId), (_instance, state) => state.storage.put('state', { order, saga, recorded: true }));
    expect(await runInDurableObject(sagaOf(orderId), (_instance, state) => state.storage.getAlarm())).toBeNull();

    await cronTick();

    expect((await settled(orderId)).status).toBe('COMPLETED');
  });
});

describe('retention', () => {
  it('an ended saga deletes its own storage after SAGA_RETENTION_MS; its order stays and still answers a retried POST', async () => {
    const key = newKey();
    const { orderId } = await (await placeOrder({ items: [{ productId: 'prod_lamp', quantity: 1 }] }, key)).json<{ orderId: string }>();
    expect((await settled(orderId)).status).toBe('COMPLETED');
    const saga = sagaOf(orderId);
    // Kept for now: the alarm is set at the end of its retention.
    const alarm = await runInDurableObject(saga, (_instance, state) => state.storage.getAlarm());
    expect(alarm).toBeGreaterThan(Date.now() + 24 * 60 * 60 * 1000);

    // Its retention has passed.
    await runInDurableObject(saga, async (_instance, state) => {
      const stored = await state.storage.get<Record<string, unknown>>('state');
      await state.storage.put('state', { ...stored, endedAt: 0 });
    });
    expect(await runDurableObjectAlarm(saga)).toBe(true);
    expect((await runInDurableObject(saga, (_instance, state) => state.storage.list())).size).toBe(0);

    // The record stays; the same key is the same order, never a second one or a second charge.
    const again = await placeOrder({ items: [{ productId: 'prod_lamp', quantity: 1 }] }, key);
    expect(again.status).toBe(200);
    expect(await again.json()).toEqual({ orderId, status: 'COMPLETED' });
    expect((await runInDurableObject(saga, (_instance, state) => state.storage.list())).size).toBe(0);
    expect(await paymentsOf(orderId)).toEqual([{ kind: 'charge', status: 'succeeded', amountCents: 2_500 }]);
  });

  it('the cron prunes inbox rows past INBOX_RETENTION_MS, a bounded batch per tick; younger rows stay', async () => {
    const now = Date.now();
    const day = 24 * 60 * 60 * 1000;
    await env.DB.prepare('DELETE FROM inbox').run();
    const insert = env.DB.prepare("INSERT INTO inbox (message_id, consumer, event_id, event_type, received_at) VALUES (?, 'order-summaries', ?, 'order.placed', ?)");
    await env.DB.batch([
      ...Array.from({ length: 3 }, (_, i) => insert.bind(`msg_old_${i}`, `evt_old_${i}`, now - 8 * day - i)),
      insert.bind('msg_young', 'evt_young', now - 6 * day),
    ]);

    await cronTick(now);

    const left = await env.DB.prepare('SELECT message_id FROM inbox ORDER BY message_id').all<{ message_id: string }>();
    expect(left.results.map((row) => row.message_id)).toEqual(['msg_young']);
    // Inside its window the row still refuses a duplicate of its message.
    await expect(insert.bind('msg_young', 'evt_other', now).run()).rejects.toThrow(/UNIQUE/);
  });
});
