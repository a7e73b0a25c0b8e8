import { createExecutionContext, createScheduledController, waitOnExecutionContext } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { beforeEach, describe, expect, it } from 'vitest';
import catalogWorker from '../../../workers/catalog/index';
import { commitReservation, releaseReservation, reserve, seedProducts } from './inventory-support';

const DAY = 24 * 60 * 60 * 1000;

async function cronTick(scheduledTime: number): Promise<void> {
  const ctx = createExecutionContext();
  await catalogWorker.scheduled(createScheduledController({ scheduledTime, cron: '* * * * *' }), env, ctx);
  await waitOnExecutionContext(ctx);
}

const ids = async (table: string, column = 'id') =>
  (await env.DB.prepare(`SELECT ${column} AS id FROM ${table} ORDER BY ${column}`).all<{ id: string }>()).results.map((row) => row.id);

beforeEach(async () => {
  await seedProducts([{ id: 'p1', stock: 10 }]);
  await env.DB.prepare('DELETE FROM inbox').run();
});

describe("the catalog's retention (cron)", () => {
  it('prunes settled reservations and their items past RESERVATION_RETENTION_MS; a reserved one (holding stock) and younger ones stay', async () => {
    await reserve('ord_committed', [{ productId: 'p1', quantity: 1 }]);
    await commitReservation('ord_committed');
    await releaseReservation('ord_tombstone'); // a release before any reserve: a tombstone
    await reserve('ord_holding', [{ productId: 'p1', quantity: 1 }]);
    await reserve('ord_young', [{ productId: 'p1', quantity: 1 }]);
    await releaseReservation('ord_young');
    // Everything but ord_young settled (or was reserved) 31 days ago.
    const old = new Date(Date.now() - 31 * DAY).toISOString();
    await env.DB.prepare("UPDATE reservations SET updated_at = ? WHERE id <> 'ord_young'").bind(old).run();

    await cronTick(Date.now());

    expect(await ids('reservations')).toEqual(['ord_holding', 'ord_young']);
    expect(await ids('reservation_items', 'reservation_id')).toEqual(['ord_holding', 'ord_young']);
  });

  it('inside its window a tombstone still refuses a reserve that arrives after its release', async () => {
    await releaseReservation('ord_late');
    await cronTick(Date.now());
    expect((await reserve('ord_late', [{ productId: 'p1', quantity: 1 }])).status).toBe(409);
  });

  it('prunes inbox rows past INBOX_RETENTION_MS; younger ones stay', async () => {
    const now = Date.now();
    const insert = env.DB.prepare("INSERT INTO inbox (message_id, consumer, event_id, event_type, received_at) VALUES (?, 'catalog', ?, 'order.completed', ?)");
    await env.DB.batch([insert.bind('msg_old', 'evt_old', now - 8 * DAY), insert.bind('msg_young', 'evt_young', now - DAY)]);
    await cronTick(now);
    expect(await ids('inbox', 'message_id')).toEqual(['msg_young']);
  });
});
