import { drizzle, type DrizzleD1Database } from 'drizzle-orm/d1';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { d1OutboxStore, outbox, outboxInsert } from '../../../../shared/adapters/cloudflare/outbox-table';
import { cloudEvent } from '../../../../shared/events/cloud-event';
import { dispatchOutbox } from '../../../../shared/outbox/dispatcher';
import type { OutboxDestination } from '../../../../shared/outbox/outbox-message';
import { d1With } from '../../support/miniflare-d1';

const T0 = 1_700_000_000_000;
const topic: OutboxDestination = { kind: 'topic', topic: 'order-events' };

let database: Awaited<ReturnType<typeof d1With>>;
let db: DrizzleD1Database;

beforeAll(async () => {
  database = await d1With({ outbox });
  db = drizzle(database.d1);
}, 30_000);
afterAll(() => database?.dispose());
beforeEach(async () => {
  await db.delete(outbox);
});

const event = (id: string) => cloudEvent({ id, type: 'order.completed', source: 'stratus/orders', subject: 'ord_1', data: { orderId: 'ord_1' } });
const insert = (id: string, at = T0) => outboxInsert(db, event(id), topic, { now: at });
const rowOf = async (id: string) => db.select().from(outbox).where(eq(outbox.id, id)).get();

describe('outboxInsert', () => {
  it('is a statement of the caller batch: the row exists only when the batch commits', async () => {
    await db.batch([insert('evt_1')]);
    const row = await rowOf('evt_1');
    expect(row).toMatchObject({ id: 'evt_1', type: 'order.completed', attempts: 0, createdAt: T0, nextAttemptAt: T0, sentAt: null });
    expect(JSON.parse(row!.destination)).toEqual(topic);
    expect(JSON.parse(row!.body)).toMatchObject({ specversion: '1.0', id: 'evt_1', type: 'order.completed' });

    // The same event twice in one batch: the PK refuses the second, and the whole batch rolls back.
    await expect(db.batch([insert('evt_2'), insert('evt_2')])).rejects.toThrow(/UNIQUE constraint failed: outbox\.id/);
    expect(await rowOf('evt_2')).toBeUndefined();
  });

  it('stores the event JSON that is published', async () => {
    const e = event('evt_3');
    await db.batch([outboxInsert(db, e, topic, { now: T0 })]);
    expect((await rowOf('evt_3'))!.body).toBe(JSON.stringify(e));
  });
});

describe('d1OutboxStore', () => {
  it('claims due unsent rows, oldest first, up to the limit', async () => {
    await db.batch([insert('evt_b', T0 + 2), insert('evt_a', T0 + 1), insert('evt_c', T0 + 3), insert('evt_later', T0 + 1_000)]);
    const store = d1OutboxStore(db);

    const claimed = await store.claim({ now: T0 + 10, limit: 2, claimer: 'run-1', leaseUntil: T0 + 60_000 });

    expect(claimed.map((record) => record.id)).toEqual(['evt_a', 'evt_b']);
    expect(await rowOf('evt_a')).toMatchObject({ claimedBy: 'run-1', claimedUntil: T0 + 60_000 });
    expect(await rowOf('evt_c')).toMatchObject({ claimedBy: null });
  });

  it('never gives one row to two concurrent claims', async () => {
    await db.batch([insert('evt_0'), ...Array.from({ length: 19 }, (_, i) => insert(`evt_${i + 1}`))]);
    const store = d1OutboxStore(db);

    const runs = await Promise.all(
      Array.from({ length: 5 }, (_, i) => store.claim({ now: T0, limit: 8, claimer: `run-${i}`, leaseUntil: T0 + 60_000 })),
    );

    const ids = runs.flat().map((record) => record.id);
    expect(ids).toHaveLength(20);
    expect(new Set(ids).size).toBe(20);
  });

  it('skips rows under another claim until the claim ends', async () => {
    await db.batch([insert('evt_1')]);
    const store = d1OutboxStore(db);
    await store.claim({ now: T0, limit: 10, claimer: 'run-1', leaseUntil: T0 + 60_000 });

    expect(await store.claim({ now: T0 + 59_999, limit: 10, claimer: 'run-2', leaseUntil: T0 + 120_000 })).toEqual([]);
    expect((await store.claim({ now: T0 + 60_000, limit: 10, claimer: 'run-2', leaseUntil: T0 + 120_000 })).map((r) => r.id)).toEqual(['evt_1']);
  });

  it('marks a row sent with its message ids and releases the claim; sending twice changes nothing', async () => {
    await db.batch([insert('evt_1')]);
    const store = d1OutboxStore(db);
    await store.claim({ now: T0, limit: 10, claimer: 'run-1', leaseUntil: T0 + 60_000 });

    await store.markSent([{ id: 'evt_1', messageIds: ['m_1', 'm_2'] }], { claimer: 'run-1', sentAt: T0 + 5 });
    await store.markSent([{ id: 'evt_1', messageIds: ['m_3'] }], { claimer: 'run-2', sentAt: T0 + 9 });

    const row = await rowOf('evt_1');
    expect(row).toMatchObject({ sentAt: T0 + 5, claimedBy: null, claimedUntil: null });
    expect(JSON.parse(row!.messageIds!)).toEqual(['m_1', 'm_2']);
    expect(await store.claim({ now: T0 + 100_000, limit: 10, claimer: 'run-3', leaseUntil: T0 + 200_000 })).toEqual([]);
  });

  it('records a failure only for the claimer that holds the row', async () => {
    await db.batch([insert('evt_1')]);
    const store = d1OutboxStore(db);
    await store.claim({ now: T0, limit: 10, claimer: 'run-1', leaseUntil: T0 + 60_000 });

    await store.markFailed('evt_1', { claimer: 'run-stale', attempts: 7, lastError: 'late', nextAttemptAt: T0 + 1 });
    expect(await rowOf('evt_1')).toMatchObject({ attempts: 0, lastError: null, claimedBy: 'run-1' });

    await store.markFailed('evt_1', { claimer: 'run-1', attempts: 1, lastError: 'Error: down', nextAttemptAt: T0 + 1_000 });
    expect(await rowOf('evt_1')).toMatchObject({ attempts: 1, lastError: 'Error: down', nextAttemptAt: T0 + 1_000, claimedBy: null, sentAt: null });
  });

  it('summarises pending and sent rows and when the next one is due', async () => {
    const store = d1OutboxStore(db);
    expect(await store.summary()).toEqual({ pending: 0, sent: 0, dead: 0, oldestPendingAt: null, nextAttemptAt: null });

    await db.batch([insert('evt_1', T0), insert('evt_2', T0 + 10), insert('evt_3', T0 + 20)]);
    await store.claim({ now: T0 + 30, limit: 1, claimer: 'run-1', leaseUntil: T0 + 60_000 });
    await store.markSent([{ id: 'evt_1', messageIds: ['m'] }], { claimer: 'run-1', sentAt: T0 + 31 });
    await store.claim({ now: T0 + 30, limit: 1, claimer: 'run-2', leaseUntil: T0 + 60_000 });

    // evt_2 is claimed until T0 + 60 s, so the next due row is evt_3.
    expect(await store.summary()).toEqual({ pending: 2, sent: 1, dead: 0, oldestPendingAt: T0 + 10, nextAttemptAt: T0 + 20 });
  });

  it('prunes sent rows older than the retention, never a pending one', async () => {
    await db.batch([insert('evt_old'), insert('evt_new'), insert('evt_pending')]);
    const store = d1OutboxStore(db);
    await store.claim({ now: T0, limit: 2, claimer: 'run-1', leaseUntil: T0 + 60_000 });
    await store.markSent([{ id: 'evt_old', messageIds: ['m'] }], { claimer: 'run-1', sentAt: T0 + 1 });
    await store.markSent([{ id: 'evt_new', messageIds: ['m'] }], { claimer: 'run-1', sentAt: T0 + 5_000 });

    expect(await store.prune(T0 + 1_000)).toBe(1);
    expect((await db.select({ id: outbox.id }).from(outbox)).map((r) => r.id).sort()).toEqual(['evt_new', 'evt_pending']);
    // Even with every sent row past retention, the pending one stays.
    expect(await store.prune(T0 + 1_000_000)).toBe(1);
    expect((await db.select({ id: outbox.id }).from(outbox)).map((r) => r.id)).toEqual(['evt_pending']);
  });

  it('parks a row that failed for good, lists it, and un-parks it on an operator retry', async () => {
    await db.batch([insert('evt_dead'), insert('evt_live')]);
    const store = d1OutboxStore(db);
    await store.claim({ now: T0, limit: 1, claimer: 'run-1', leaseUntil: T0 + 60_000 });
    await store.markFailed('evt_dead', { claimer: 'run-1', attempts: 5, lastError: 'Error: 404', nextAttemptAt: T0 + 1_000, deadAt: T0 + 1 });

    expect(await store.summary()).toMatchObject({ pending: 1, dead: 1 });
    expect(await store.listDead()).toEqual([{ id: 'evt_dead', type: 'order.completed', destination: JSON.stringify(topic), attempts: 5, lastError: 'Error: 404', createdAt: T0, deadAt: T0 + 1 }]);
    // Parked: not claimed however late it is, and never pruned (it was never sent).
    expect((await store.claim({ now: T0 + 10_000_000, limit: 10, claimer: 'run-2', leaseUntil: T0 + 10_060_000 })).map((r) => r.id)).toEqual(['evt_live']);
    expect(await store.prune(T0 + 10_000_000)).toBe(0);

    expect(await store.retryDead('evt_nope', T0 + 2)).toBe(0);
    expect(await store.retryDead(null, T0 + 2)).toBe(1);
    expect(await rowOf('evt_dead')).toMatchObject({ deadAt: null, attempts: 0, nextAttemptAt: T0 + 2, sentAt: null });
    expect(await store.summary()).toMatchObject({ pending: 2, dead: 0 });
  });

  it('runs the dispatcher end to end: failures stay, successes are sent', async () => {
    await db.batch([insert('evt_ok'), outboxInsert(db, event('evt_bad'), { kind: 'url', url: 'http://127.0.0.1:9/hooks/nowhere' }, { now: T0 })]);
    const store = d1OutboxStore(db);
    const published: string[] = [];

    const result = await dispatchOutbox(
      store,
      {
        async publish(destination, _body, { deduplicationId }) {
          if (destination.kind === 'url') throw new Error('QStash answered 400');
          published.push(deduplicationId);
          return ['m_ok'];
        },
      },
      { now: () => T0 + 1 },
    );

    expect(result).toEqual({ sent: 1, failed: 1, parked: 0, pending: 1, nextAttemptAt: T0 + 1 + 1_000 });
    expect(published).toEqual(['evt_ok']);
    expect(await rowOf('evt_bad')).toMatchObject({ attempts: 1, lastError: 'Error: QStash answered 400', sentAt: null, claimedBy: null });
  });
});
