import { and, asc, desc, eq, gt, lte, max, min, sql } from 'drizzle-orm';
import type { DrizzleD1Database } from 'drizzle-orm/d1';
import { d1EventStore, events, type D1Statement } from '../../shared/adapters/cloudflare/d1-event-store';
import { outboxInsert } from '../../shared/adapters/cloudflare/outbox-table';
import { isConcurrencyError, type ExpectedVersion } from '../../shared/event-store/event-store';
import type { Identity } from '../../shared/http/identity';
import { conflict, HttpError } from '../../shared/http/problem';
import { accountNotFound, decide, mayUse, rebuild, type Account, type AccountCommand, type AccountEvent, type AccountState } from './account';
import { LEDGER_EVENTS, ledgerCloudEvent } from './account-events';
import { snapshots } from './schema';

/** The shape of Account a snapshot holds; bump it when Account changes, and old snapshots are ignored. */
// 2: Account gained `userId` (the holder).
export const SNAPSHOT_SCHEMA_VERSION = 2;

/**
 * How often a command without If-Match is re-run after losing a race. Each round of a race has
 * one winner, so N racers all finish within N rounds; past this many the caller gets 409.
 */
export const MAX_ATTEMPTS = 100;

export interface AccountStoreOptions {
  /** Snapshot every this many events; 0: never (every load replays the whole stream). */
  snapshotEvery: number;
  /** Epoch ms; default Date.now. */
  now?: () => number;
}

export interface LoadOptions {
  /** false: ignore snapshots and replay every event (what tests compare against). Default true. */
  useSnapshots?: boolean;
}

/**
 * A point in an account's past (time travel): the state right after event `version`, or after
 * every event recorded at or before `at` (epoch ms).
 */
export type PointInTime = { version: number } | { at: number };

export interface ExecuteOptions {
  /** The version the caller saw (If-Match): the command applies only to exactly that version, else 409. */
  expectedVersion?: number;
  traceparent?: string | null;
  /** Who asks: a command on an account they may not use is 404 (account.ts `mayUse`). */
  actor?: Identity;
  /**
   * A statement to commit in the append's batch, given the version reached and the time: the
   * command's idempotency key (command-keys.ts), so it exists exactly when the events do.
   */
  alsoRecord?: (version: number, recordedAt: number) => D1Statement;
  /**
   * The account as the caller already loaded it (`load`), for the first attempt: the routes load
   * it alongside the Idempotency-Key lookup instead of after it. Later attempts reload.
   */
  loaded?: { state: AccountState };
}

export const staleVersion = (expected: number, actual: number) =>
  new HttpError(409, { type: 'stale-version', detail: `The account is at version ${actual}, not ${expected}: read it again.` });

/** True when the append from version `before` to `after` passes a multiple of `every`. */
export const crossesSnapshot = (before: number, after: number, every: number) => every > 0 && Math.floor(after / every) > Math.floor(before / every);

/**
 * Accounts on the ledger's D1: each account is one event stream (stream id = account id).
 * Loading = the latest snapshot (if any, and if wanted) + the events after it, folded with the
 * aggregate's `evolve`. A command is decided on what was loaded and appended with the loaded
 * version as the expected one, so the database refuses it if anything was appended in between
 * (UNIQUE(stream_id, version)); the events' outbox rows and a due snapshot go in the same batch.
 */
export class AccountStore {
  private readonly now: () => number;

  constructor(
    private readonly db: DrizzleD1Database<any>,
    private readonly options: AccountStoreOptions,
  ) {
    this.now = options.now ?? Date.now;
  }

  async load(accountId: string, { useSnapshots = true }: LoadOptions = {}): Promise<AccountState> {
    return this.replay(accountId, undefined, useSnapshots);
  }

  /**
   * Time travel: the account as it stood at `point`, from its events. The stream's prefix up to
   * the target version is folded, starting from the latest snapshot at or before that version
   * (a later snapshot describes events the answer must not include). `null` when the account
   * did not exist yet at that point, and also when `version` is past the stream's end: the
   * ledger never answers a version that has not happened (the caller gets 404, not "now").
   */
  async loadAt(accountId: string, point: PointInTime, { useSnapshots = true }: LoadOptions = {}): Promise<AccountState> {
    const version = 'version' in point ? point.version : await this.versionAt(accountId, point.at);
    if (version === undefined) return this.replay(accountId, undefined, useSnapshots);
    if (version < 1) return null;
    const state = await this.replay(accountId, version, useSnapshots);
    return state && state.version === version ? state : null;
  }

  /**
   * The last version recorded at or before `at`: the version before the stream's first event
   * recorded after it (0 if that is its first; undefined if no event is later than `at`). So the
   * answer is always a prefix of the stream, even if a clock ran backwards between two appends.
   */
  private async versionAt(accountId: string, at: number): Promise<number | undefined> {
    const row = await this.db
      .select({ firstLater: min(events.version) })
      .from(events)
      .where(and(eq(events.streamId, accountId), gt(events.recordedAt, at)))
      .get();
    const firstLater = row?.firstLater;
    return firstLater === null || firstLater === undefined ? undefined : Number(firstLater) - 1;
  }

  /**
   * Folds the stream up to `toVersion` (default its end) from the latest usable snapshot. The
   * snapshot and the events after it are read in ONE D1 batch (one round trip, one transaction):
   * the events query finds the snapshot's version itself, by subquery, instead of waiting for the
   * snapshot's answer. This is on every command's and every read's path, so it reads the events
   * here rather than through the event store's readStream, which takes a version, not a query.
   */
  private async replay(accountId: string, toVersion: number | undefined, useSnapshots: boolean): Promise<AccountState> {
    if (!useSnapshots) {
      const stored = await d1EventStore(this.db).readStream<AccountEvent>(accountId, { toVersion });
      return rebuild(stored.map(({ type, data }) => ({ type, data }) as AccountEvent));
    }
    const usable = and(
      eq(snapshots.streamId, accountId),
      eq(snapshots.schemaVersion, SNAPSHOT_SCHEMA_VERSION),
      toVersion === undefined ? undefined : lte(snapshots.version, toVersion),
    );
    const snapshotVersion = this.db.select({ version: max(snapshots.version) }).from(snapshots).where(usable);
    const [snapshotRows, eventRows] = await this.db.batch([
      // The newest snapshot of the current shape, at or before `toVersion` (a later one describes events the answer must not include).
      this.db.select({ state: snapshots.state }).from(snapshots).where(usable).orderBy(desc(snapshots.version)).limit(1),
      this.db
        .select({ type: events.type, data: events.data })
        .from(events)
        .where(
          and(
            eq(events.streamId, accountId),
            gt(events.version, sql`coalesce((${snapshotVersion}), 0)`),
            toVersion === undefined ? undefined : lte(events.version, toVersion),
          ),
        )
        .orderBy(asc(events.version)),
    ]);
    const snapshot = snapshotRows[0] ? (JSON.parse(snapshotRows[0].state) as Account) : null;
    return rebuild(
      eventRows.map(({ type, data }) => ({ type, data: JSON.parse(data) }) as AccountEvent),
      snapshot,
    );
  }

  /**
   * Runs `command` on the account and answers its state after it. With `expectedVersion` (the
   * client's If-Match) a stale version, or losing the race to the append, is 409. Without it, a
   * lost race is retried: reload, decide again (so the command is checked against the state
   * that won, e.g. a withdrawal against the balance left), append again.
   */
  async execute(accountId: string, command: AccountCommand, options: ExecuteOptions = {}): Promise<Account> {
    for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
      const state = attempt === 1 && options.loaded ? options.loaded.state : await this.load(accountId);
      if (state && options.actor && command.type !== 'OpenAccount' && !mayUse(state, options.actor)) throw accountNotFound();
      if (options.expectedVersion !== undefined) {
        if (!state && command.type !== 'OpenAccount') throw accountNotFound();
        const actual = state?.version ?? 0;
        if (actual !== options.expectedVersion) throw staleVersion(options.expectedVersion, actual);
      }
      const events = decide(command, state);
      const next = rebuild(events, state);
      if (!next) throw accountNotFound();
      if (events.length === 0) return next;
      try {
        await this.append(accountId, state, events, next, options);
        return next;
      } catch (error) {
        if (!isConcurrencyError(error)) throw error;
        if (options.expectedVersion !== undefined) throw staleVersion(options.expectedVersion, error.actualVersion);
      }
    }
    throw conflict(`The account ${accountId} is too busy: the command lost ${MAX_ATTEMPTS} races in a row. Try again.`);
  }

  private async append(accountId: string, before: AccountState, events: AccountEvent[], after: Account, { traceparent, alsoRecord }: ExecuteOptions): Promise<void> {
    const recordedAt = this.now();
    const from = before?.version ?? 0;
    const expectedVersion: ExpectedVersion = before ? from : 'no-stream';
    const alsoCommit: D1Statement[] = events.map((event, index) =>
      outboxInsert(this.db, ledgerCloudEvent(accountId, from + index + 1, event, recordedAt, traceparent), LEDGER_EVENTS, { now: recordedAt }),
    );
    if (alsoRecord) alsoCommit.push(alsoRecord(after.version, recordedAt));
    if (crossesSnapshot(from, after.version, this.options.snapshotEvery)) {
      alsoCommit.push(
        this.db
          .insert(snapshots)
          .values({ streamId: accountId, version: after.version, schemaVersion: SNAPSHOT_SCHEMA_VERSION, state: JSON.stringify(after), takenAt: recordedAt })
          .onConflictDoNothing(),
      );
    }
    await d1EventStore(this.db, { now: () => recordedAt }).appendToStream(accountId, events, { expectedVersion, alsoCommit });
  }
}
