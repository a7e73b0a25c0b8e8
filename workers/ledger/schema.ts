import { sql } from 'drizzle-orm';
import { check, integer, primaryKey, sqliteTable, text } from 'drizzle-orm/sqlite-core';

// The event store's append-only table (shared): every account is one stream of its events.
export { events } from '../../shared/adapters/cloudflare/d1-event-store';
// The transactional outbox (shared): each append writes its events' outbox rows in the same batch.
export { outbox } from '../../shared/adapters/cloudflare/outbox-table';

/**
 * An account's state as it stood at `version`, written in the same batch as the append that
 * reached that version (so a snapshot never describes events that did not commit). Only a
 * cache of the events: loading takes the latest one plus the events after it, and deleting them
 * all changes no answer. `schema_version` names the state's shape: a load ignores snapshots of
 * another shape, so changing Account needs no migration of old snapshots.
 */
export const snapshots = sqliteTable(
  'snapshots',
  {
    streamId: text('stream_id').notNull(),
    version: integer('version').notNull(),
    schemaVersion: integer('schema_version').notNull(),
    /** JSON. */
    state: text('state').notNull(),
    /** Epoch milliseconds. */
    takenAt: integer('taken_at').notNull(),
  },
  (table) => [
    primaryKey({ columns: [table.streamId, table.version] }),
    check('snapshots_version_positive', sql`${table.version} >= 1`),
    check('snapshots_state_json', sql`json_valid(${table.state})`),
  ],
);

export type SnapshotRow = typeof snapshots.$inferSelect;
