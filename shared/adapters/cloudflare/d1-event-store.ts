import { and, asc, eq, gt, gte, lte, sql, type SQL } from 'drizzle-orm';
import type { BatchItem } from 'drizzle-orm/batch';
import type { DrizzleD1Database } from 'drizzle-orm/d1';
import { check, integer, sqliteTable, text, uniqueIndex } from 'drizzle-orm/sqlite-core';
import {
  checkAppend,
  checkReadAll,
  concurrencyError,
  expectedStreamVersion,
  type EventInput,
  type EventStore,
  type ReadAllOptions,
  type ReadStreamOptions,
  type RecordedEvent,
} from '../../event-store/event-store';
import { constraintFailure } from './d1-constraint';

/**
 * The event store's table in a service's D1 (its schema.ts re-exports it, so drizzle-kit writes
 * it into that service's migrations). Rows are only ever inserted: nothing here updates or
 * deletes one.
 *
 * `global_position` is AUTOINCREMENT. SQLite has one writer, and a rolled-back batch gives its
 * numbers back, so positions grow in commit order with no gaps and never repeat. A projection
 * that has read up to position p will never see a new event below p.
 */
export const events = sqliteTable(
  'events',
  {
    globalPosition: integer('global_position').primaryKey({ autoIncrement: true }),
    streamId: text('stream_id').notNull(),
    version: integer('version').notNull(),
    type: text('type').notNull(),
    /** JSON. */
    data: text('data').notNull(),
    /** JSON object, `{}` when none. */
    metadata: text('metadata').notNull(),
    /** Epoch milliseconds. */
    recordedAt: integer('recorded_at').notNull(),
  },
  (table) => [
    // The optimistic-concurrency check: two appends claiming the same version cannot both commit.
    // It also serves readStream (stream_id = ? ORDER BY version) and the current version (max).
    uniqueIndex('events_stream_version_unique').on(table.streamId, table.version),
    check('events_version_positive', sql`${table.version} >= 1`),
    check('events_data_json', sql`json_valid(${table.data})`),
    check('events_metadata_json', sql`json_valid(${table.metadata})`),
  ],
);

export type EventRow = typeof events.$inferSelect;

/** What `alsoCommit` takes on D1: any drizzle query on the same database, unexecuted (e.g. `outboxInsert(...)`). */
export type D1Statement = BatchItem<'sqlite'>;

export interface D1EventStoreOptions {
  /** Epoch ms for `recordedAt`; default Date.now. */
  now?: () => number;
}

const toRecorded = <E extends EventInput>(row: EventRow): RecordedEvent<E> => ({
  streamId: row.streamId,
  version: row.version,
  type: row.type,
  data: JSON.parse(row.data),
  metadata: JSON.parse(row.metadata),
  globalPosition: row.globalPosition,
  recordedAt: row.recordedAt,
});

/**
 * The event store on a service's D1. One append is one D1 batch (one transaction): the events,
 * then the caller's `alsoCommit` statements. All of it commits, or none of it.
 *
 * How a version conflict is found, with no read before the write. Each event's version is
 * written by the INSERT that stores it:
 * - expected N (or `'no-stream'`, N = 0): the versions are N+1, ..., N+k. If another append
 *   already wrote N+1, UNIQUE(stream_id, version) refuses the row and the whole batch. A stream
 *   still below N (a made-up If-Match) would leave a gap, so the first row's version is
 *   `CASE WHEN max(version) >= N THEN N+1 END`: NULL then, and NOT NULL refuses it. Both
 *   refusals become a ConcurrencyError.
 * - `'any'`: each row's version is `max(version) + 1` of its stream, computed by its own
 *   statement under SQLite's write lock. It cannot conflict.
 */
export function d1EventStore(db: DrizzleD1Database<any>, options: D1EventStoreOptions = {}): EventStore<D1Statement> {
  const now = options.now ?? Date.now;

  const currentVersion = async (streamId: string): Promise<number> => {
    const row = await db
      .select({ version: sql<number | null>`max(${events.version})` })
      .from(events)
      .where(eq(events.streamId, streamId))
      .get();
    return Number(row?.version ?? 0);
  };

  // Raw names: in a subquery inside INSERT INTO events, drizzle may render columns unqualified.
  const streamMax = (streamId: string) => sql`(SELECT coalesce(max("version"), 0) FROM "events" WHERE "stream_id" = ${streamId})`;

  const versionOf = (streamId: string, expected: number | null, index: number): SQL | number => {
    if (expected === null) return sql`${streamMax(streamId)} + 1`;
    if (index === 0 && expected > 0) {
      return sql`(SELECT CASE WHEN coalesce(max("version"), 0) >= ${expected} THEN ${expected + 1} END FROM "events" WHERE "stream_id" = ${streamId})`;
    }
    return expected + index + 1;
  };

  const isVersionConflict = (error: unknown): boolean => {
    const failure = constraintFailure(error);
    if (!failure) return false;
    if (failure.kind === 'unique') return failure.target === 'events.stream_id, events.version';
    return failure.kind === 'not-null' && failure.target === 'events.version';
  };

  return {
    async appendToStream(streamId, input, { expectedVersion, alsoCommit = [] }) {
      checkAppend(streamId, input);
      const expected = expectedStreamVersion(expectedVersion);
      const recordedAt = now();
      const inserts = input.map((event, index) =>
        db
          .insert(events)
          .values({
            streamId,
            version: versionOf(streamId, expected, index),
            type: event.type,
            data: JSON.stringify(event.data ?? null),
            metadata: JSON.stringify(event.metadata ?? {}),
            recordedAt,
          })
          .returning({ version: events.version, globalPosition: events.globalPosition }),
      );
      let results: unknown[];
      try {
        results = await db.batch([...inserts, ...alsoCommit] as [D1Statement, ...D1Statement[]]);
      } catch (error) {
        if (isVersionConflict(error)) throw concurrencyError(streamId, expectedVersion, await currentVersion(streamId));
        throw error;
      }
      const last = (results[inserts.length - 1] as { version: number; globalPosition: number }[])[0]!;
      return { nextVersion: Number(last.version), globalPosition: Number(last.globalPosition) };
    },

    async readStream<E extends EventInput>(streamId: string, { fromVersion, toVersion }: ReadStreamOptions = {}) {
      const rows = await db
        .select()
        .from(events)
        .where(
          and(
            eq(events.streamId, streamId),
            fromVersion === undefined ? undefined : gte(events.version, fromVersion),
            toVersion === undefined ? undefined : lte(events.version, toVersion),
          ),
        )
        .orderBy(asc(events.version));
      return rows.map((row) => toRecorded<E>(row));
    },

    async readAll<E extends EventInput>(readOptions: ReadAllOptions) {
      const { after, limit } = checkReadAll(readOptions);
      const rows = await db.select().from(events).where(gt(events.globalPosition, after)).orderBy(asc(events.globalPosition)).limit(limit);
      return rows.map((row) => toRecorded<E>(row));
    },
  };
}
