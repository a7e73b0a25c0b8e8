import { drizzle, type DrizzleD1Database } from 'drizzle-orm/d1';
import { eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { d1EventStore, events, type D1Statement } from '../../../shared/adapters/cloudflare/d1-event-store';
import { outbox, outboxInsert } from '../../../shared/adapters/cloudflare/outbox-table';
import { cloudEvent } from '../../../shared/events/cloud-event';
import { d1With } from '../support/miniflare-d1';
import { eventStoreContract } from './event-store-contract';

let database: Awaited<ReturnType<typeof d1With>>;
let db: DrizzleD1Database;

beforeAll(async () => {
  database = await d1With({ events, outbox });
  db = drizzle(database.d1);
}, 30_000);
afterAll(() => database?.dispose());

const outboxRow = (id: string) =>
  outboxInsert(db, cloudEvent({ id, type: 'ledger.deposited', source: 'stratus/ledger', data: {} }), { kind: 'topic', topic: 'ledger-events' });

eventStoreContract<D1Statement>('D1', {
  async open(now) {
    // Fresh storage for each test, positions from 1 again (tests only: the store never deletes).
    await db.batch([db.delete(events), db.delete(outbox), db.run(sql`DELETE FROM sqlite_sequence WHERE name = 'events'`)]);
    return d1EventStore(db, { now });
  },
  committing: (tag) => outboxRow(tag),
  committed: async (tag) => (await db.select().from(outbox).where(eq(outbox.id, tag)).get()) !== undefined,
  // Refused by the outbox's own CHECK, after the events were inserted: not a version conflict.
  failing: () =>
    db.insert(outbox).values({ id: 'bad', destination: 'not json', type: 'x', body: '{}', createdAt: 0, nextAttemptAt: 0 }),
});

describe('the events table in D1', () => {
  it('is the schema the issue names: UNIQUE(stream_id, version), global_position AUTOINCREMENT', async () => {
    const rows = await db.all<{ name: string; sql: string }>(sql`SELECT name, sql FROM sqlite_master WHERE tbl_name = 'events' AND sql IS NOT NULL`);
    const ddl = Object.fromEntries(rows.map((row) => [row.name, row.sql]));

    expect(ddl['events']).toMatch(/`global_position` integer PRIMARY KEY AUTOINCREMENT NOT NULL/);
    for (const column of ['stream_id', 'version', 'type', 'data', 'metadata', 'recorded_at']) expect(ddl['events']).toContain(`\`${column}\``);
    expect(ddl['events_stream_version_unique']).toMatch(/CREATE UNIQUE INDEX `events_stream_version_unique` ON `events` \(`stream_id`,`version`\)/);
  });

  it('stores data and metadata as JSON text and the time as epoch milliseconds', async () => {
    await db.batch([db.delete(events)]);
    const store = d1EventStore(db, { now: () => 1_700_000_000_123 });
    await store.appendToStream('acc-1', [{ type: 'opened', data: { owner: 'ada', currency: 'EUR' }, metadata: { requestId: 'r1' } }], { expectedVersion: 'no-stream' });

    const row = await db.select().from(events).where(eq(events.streamId, 'acc-1')).get();
    expect(row).toMatchObject({ version: 1, type: 'opened', data: '{"owner":"ada","currency":"EUR"}', metadata: '{"requestId":"r1"}', recordedAt: 1_700_000_000_123 });
  });
});
