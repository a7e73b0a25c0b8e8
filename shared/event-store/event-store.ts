/**
 * The event store: append-only streams of events, each stream versioned 1, 2, 3, ... and every
 * event also numbered in one global order (`globalPosition`) that projections follow with a
 * checkpoint. Adapters: shared/adapters/memory/memory-event-store.ts (tests, the pure core) and
 * shared/adapters/cloudflare/d1-event-store.ts (a service's D1).
 *
 * Why not Emmett (`@event-driven-io/emmett` + `@event-driven-io/emmett-sqlite`), read at
 * emmett 0.42.0 / emmett-sqlite 0.42.4 (the newest on npm) and the repository's main branch
 * (0.43.0-beta.39). Its shape is the one we keep: an interface at the storage seam,
 * `readStream` / `appendToStream` with an expected stream version, drivers per database. But:
 * - No D1 on npm. The published emmett-sqlite imports the native `sqlite3` module at top level
 *   (it cannot load on workerd) and runs appends as interactive BEGIN IMMEDIATE ... COMMIT
 *   transactions, which D1 does not have. Its D1 driver (`cloudflare.ts`, over
 *   `@event-driven-io/dumbo/cloudflare`) exists only on the unreleased 0.43 beta line (not on
 *   the registry). It would also bring pongo and dumbo betas with it. The published 0.42.4 even
 *   asks for emmett 0.42.4 as a peer, and npm's newest emmett is 0.42.0.
 * - Conflicts are found by reading first. Its append reads the stream's position, throws if it
 *   is not the expected one, and then checks again in the batch with a conditional UPDATE of a
 *   mutable `emt_streams` row. `STREAM_DOES_NOT_EXIST` is mapped to "no check" (a TODO in its
 *   source), so `no-stream` is not enforced there. Here the database decides in the same
 *   statement that writes: UNIQUE(stream_id, version) on the events themselves, and no stream
 *   row is updated.
 * - Another schema: `emt_messages` / `emt_streams` with partition, is_archived, message_kind,
 *   schema version and message id columns. Ours is `events(stream_id, version, type, data,
 *   metadata, global_position, recorded_at)`, in each service's drizzle schema and migrations
 *   (database per service).
 * - Same batch as other statements: Emmett's `onBeforeCommit` hook gets a connection. On D1 that
 *   cannot join the append's batch. Here an append takes `alsoCommit` statements (an outbox row,
 *   a snapshot) that go into the append's own D1 batch.
 * So this is a small store of our own (about 200 lines per adapter) that keeps Emmett's names
 * where they fit. No dependency was added.
 */

/** What a caller appends. `data` and `metadata` must be JSON-serialisable. */
export interface EventInput<Type extends string = string, Data = unknown> {
  type: Type;
  data: Data;
  metadata?: Record<string, unknown>;
}

/** An event as stored: its place in its stream and in the global order, and when it was recorded. */
export interface RecordedEvent<E extends EventInput = EventInput> {
  streamId: string;
  /** 1 for a stream's first event, then +1 per event, with no gaps. */
  version: number;
  type: E['type'];
  data: E['data'];
  /** `{}` when none was given. */
  metadata: Record<string, unknown>;
  /** Strictly increasing across all streams in commit order; starts at 1. */
  globalPosition: number;
  /** Epoch milliseconds, the same for all events of one append. */
  recordedAt: number;
}

/**
 * What the stream must be at for the append to go through:
 * - a number N: its last event has version N (0 is the same as `'no-stream'`);
 * - `'no-stream'`: it has no events yet;
 * - `'any'`: no check. The events go after whatever is there, and the database picks the
 *   versions in the same statement, so two `'any'` appends never conflict.
 */
export type ExpectedVersion = number | 'no-stream' | 'any';

export interface AppendOptions<Statement = never> {
  expectedVersion: ExpectedVersion;
  /**
   * More writes that commit only with the events, and roll them back if one of them fails (an
   * outbox row, a snapshot, an idempotency record). What a statement is depends on the adapter:
   * a drizzle query for D1, a callback for memory. With an exact expected version N, the
   * appended events have versions N+1, N+2, ..., so the statements can name them.
   */
  alsoCommit?: readonly Statement[];
}

export interface AppendResult {
  /** The version of the last appended event: the expected version of the next append. */
  nextVersion: number;
  /** The global position of the last appended event. */
  globalPosition: number;
}

export interface ReadStreamOptions {
  /** First version to return (inclusive); default 1. */
  fromVersion?: number;
  /** Last version to return (inclusive); default the stream's end. */
  toVersion?: number;
}

export interface ReadAllOptions {
  /** Only events after this global position (exclusive): a projection's checkpoint. Default 0. */
  after?: number;
  /** At most this many events, in global order. */
  limit: number;
}

/**
 * `Statement` is what `alsoCommit` takes: an adapter-specific write that joins the append's
 * transaction.
 */
export interface EventStore<Statement = never> {
  /** Throws a ConcurrencyError (see `isConcurrencyError`) when the stream is not at `expectedVersion`; nothing is written then. */
  appendToStream<E extends EventInput>(streamId: string, events: readonly E[], options: AppendOptions<Statement>): Promise<AppendResult>;
  /** The stream's events in version order; `[]` for a stream that does not exist. */
  readStream<E extends EventInput = EventInput>(streamId: string, options?: ReadStreamOptions): Promise<RecordedEvent<E>[]>;
  /** Events of every stream in global order, for projections and replays. */
  readAll<E extends EventInput = EventInput>(options: ReadAllOptions): Promise<RecordedEvent<E>[]>;
}

/**
 * The stream was not at the expected version: another writer got there first (or the caller's
 * version was never reached). Recognised by its marker (`isConcurrencyError`), not `instanceof`,
 * so it survives bundles and RPC. Nothing of the refused append was written.
 */
export interface ConcurrencyError extends Error {
  readonly isConcurrencyError: true;
  readonly streamId: string;
  readonly expectedVersion: ExpectedVersion;
  /** The stream's version as read just after the refusal (for messages only; may be newer still). */
  readonly actualVersion: number;
}

export function concurrencyError(streamId: string, expectedVersion: ExpectedVersion, actualVersion: number): ConcurrencyError {
  const expected = expectedVersion === 'no-stream' ? 'no stream' : `version ${expectedVersion}`;
  return Object.assign(new Error(`stream ${streamId} expected at ${expected} but is at version ${actualVersion}`), {
    name: 'ConcurrencyError',
    isConcurrencyError: true as const,
    streamId,
    expectedVersion,
    actualVersion,
  });
}

export const isConcurrencyError = (error: unknown): error is ConcurrencyError =>
  typeof error === 'object' && error !== null && (error as { isConcurrencyError?: unknown }).isConcurrencyError === true;

/**
 * The stream version an append must find, or null for `'any'`. Refuses what cannot be a
 * version: the same check in every adapter.
 */
export function expectedStreamVersion(expected: ExpectedVersion): number | null {
  if (expected === 'any') return null;
  if (expected === 'no-stream') return 0;
  if (!Number.isSafeInteger(expected) || expected < 0) throw new RangeError(`expectedVersion must be a non-negative integer, 'no-stream' or 'any', not ${String(expected)}`);
  return expected;
}

/** The arguments every adapter refuses the same way. */
export function checkAppend(streamId: string, events: readonly EventInput[]): void {
  if (typeof streamId !== 'string' || streamId.length === 0) throw new TypeError('streamId must be a non-empty string');
  if (events.length === 0) throw new RangeError('appendToStream needs at least one event');
  for (const event of events) {
    if (typeof event.type !== 'string' || event.type.length === 0) throw new TypeError('every event needs a non-empty type');
  }
}

/** Checks `readAll`'s paging arguments. */
export function checkReadAll(options: ReadAllOptions): { after: number; limit: number } {
  const after = options.after ?? 0;
  if (!Number.isSafeInteger(after) || after < 0) throw new RangeError('after must be a non-negative integer');
  if (!Number.isSafeInteger(options.limit) || options.limit < 1) throw new RangeError('limit must be a positive integer');
  return { after, limit: options.limit };
}
