import { eq, sql } from 'drizzle-orm';
import { drizzle, type DrizzleD1Database } from 'drizzle-orm/d1';
import { constraintFailure } from '../../../shared/adapters/cloudflare/d1-constraint';
import { d1EventStore, type D1Statement } from '../../../shared/adapters/cloudflare/d1-event-store';
import { conflict } from '../../../shared/http/problem';
import type { Logger } from '../../../shared/observability/logger';
import type { AccountEvent } from '../account';
import { projectionCheckpoints } from '../schema';
import { balancesProjection } from './balances';
import type { Projection, ProjectionTarget } from './projection';
import { transactionsProjection } from './transactions';

/**
 * The projection runner: the only code that writes the read models. For each projection it
 * reads the events after its checkpoint (`readAll`, global order) a page at a time and commits
 * the page's row changes AND the checkpoint's move in ONE D1 batch. So the rows always describe
 * exactly the events up to the checkpoint, a crash between pages resumes where the last batch
 * left off, and no event is applied twice.
 *
 * Racing runners (two isolates, or the cron and a request) are safe without a lock: the
 * checkpoint moves only from the position the runner read (`moveCheckpoint`). The loser's batch
 * finds another position, sets NULL, NOT NULL refuses it and D1 rolls the whole batch back; the
 * loser reads the checkpoint again and goes on from there. Even if the position came back to the
 * same number (a rebuild's swap), the rows stand for that same position, and the loser's batch
 * is exactly the one the winner would have written.
 *
 * Within one isolate a single-flight guard keeps it to one catch-up at a time (`projectEvents`):
 * a trigger that arrives during a run asks for one more pass instead of starting a second run.
 */

/** Every projection, by the name routes and checkpoints use. `top` is a read of `balances` (top.ts). */
export const PROJECTIONS = {
  balances: balancesProjection,
  transactions: transactionsProjection,
} satisfies Record<string, Projection<any>>;

export type ProjectionName = keyof typeof PROJECTIONS;

export const isProjectionName = (name: string): name is ProjectionName => Object.hasOwn(PROJECTIONS, name);

export interface RunOptions {
  /** Events per batch. Each event is one statement or two; D1 runs a batch as one transaction. */
  pageSize?: number;
}

const DEFAULT_PAGE_SIZE = 200;
/**
 * Lost races in a row before a catch-up gives up. Each lost race means another runner moved the
 * checkpoint, so this many in a row means something else is wrong; the next pass retries.
 */
const MAX_LOST_RACES = 20;

/** The checkpoint a projection's `target` copy keeps. */
export const checkpointName = (name: ProjectionName, target: ProjectionTarget) => (target === 'live' ? name : `${name}:rebuild`);

export async function readCheckpoint(db: DrizzleD1Database<any>, name: string): Promise<number> {
  const row = await db.select({ position: projectionCheckpoints.position }).from(projectionCheckpoints).where(eq(projectionCheckpoints.name, name)).get();
  return row?.position ?? 0;
}

/**
 * Moves checkpoint `name` from `from` to `to`, or fails the batch it is in: found at another
 * position, the update writes NULL and NOT NULL refuses it. A missing row (never run) is
 * inserted at `to`. (Not NULL in VALUES for that case: SQLite checks NOT NULL before it looks
 * for the conflict, so every upsert would fail.)
 */
const moveCheckpoint = (db: DrizzleD1Database<any>, name: string, from: number, to: number) =>
  db
    .insert(projectionCheckpoints)
    .values({ name, position: to })
    .onConflictDoUpdate({
      target: projectionCheckpoints.name,
      set: { position: sql`CASE WHEN ${projectionCheckpoints.position} = ${from} THEN ${to} END` },
    });

/** Sets checkpoint `name` to `position`, whatever it was. */
const setCheckpoint = (db: DrizzleD1Database<any>, name: string, position: number) =>
  db.insert(projectionCheckpoints).values({ name, position }).onConflictDoUpdate({ target: projectionCheckpoints.name, set: { position } });

/** The batch failed because a checkpoint was not where its runner had read it: someone else moved it. */
const isCheckpointMoved = (error: unknown) => {
  const failure = constraintFailure(error);
  return failure?.kind === 'not-null' && failure.target === 'projection_checkpoints.position';
};

const asBatch = (statements: D1Statement[]) => statements as [D1Statement, ...D1Statement[]];

export interface CatchUpOptions extends RunOptions {
  target?: ProjectionTarget;
  /** On a lost race: 'retry' (read the checkpoint again; live runners) or 'throw' (a rebuild superseded). */
  onLostRace?: 'retry' | 'throw';
  /**
   * Stop after this many pages (each is two D1 calls: the read and the batch), caught up or not:
   * a rebuild spreads its pages over several invocations this way (rebuild-object.ts).
   */
  maxPages?: number;
}

export interface CatchUpProgress {
  /** The global position reached. */
  position: number;
  /** True when the last page read was the head's (nothing left after `position` then). */
  caughtUp: boolean;
}

/**
 * Applies every event after projection `name`'s checkpoint to its `target` copy, page by page,
 * and answers the position reached (the head as it was when the last page was read). Not
 * guarded per isolate: `projectEvents` is the entry point for the live copies.
 */
export async function catchUp(db: DrizzleD1Database<any>, name: ProjectionName, options: CatchUpOptions = {}): Promise<number> {
  return (await advance(db, name, options)).position;
}

/** `catchUp`, stopping after `maxPages` pages: answers how far it got and whether that is the head. */
export async function advance(db: DrizzleD1Database<any>, name: ProjectionName, options: CatchUpOptions = {}): Promise<CatchUpProgress> {
  const { target = 'live', pageSize = DEFAULT_PAGE_SIZE, onLostRace = 'retry', maxPages = Infinity } = options;
  const projection: Projection<unknown> = PROJECTIONS[name];
  const checkpoint = checkpointName(name, target);
  const store = d1EventStore(db);
  let from = await readCheckpoint(db, checkpoint);
  for (let lost = 0, pages = 0; pages < maxPages; ) {
    const events = await store.readAll<AccountEvent>({ after: from, limit: pageSize });
    if (events.length === 0) return { position: from, caughtUp: true };
    const to = events.at(-1)!.globalPosition;
    const changes = events.flatMap((event) => projection.changes(event).map((change) => projection.statement(db, target, change)));
    try {
      // The checkpoint first: a loser fails on its first statement.
      await db.batch(asBatch([moveCheckpoint(db, checkpoint, from, to), ...changes]));
    } catch (error) {
      if (!isCheckpointMoved(error)) throw error;
      if (onLostRace === 'throw') throw rebuildSuperseded(name);
      if (++lost >= MAX_LOST_RACES) throw new Error(`projection ${name} (${target}) lost ${lost} checkpoint races in a row`);
      from = await readCheckpoint(db, checkpoint);
      continue;
    }
    lost = 0;
    pages++;
    from = to;
    if (events.length < pageSize) return { position: to, caughtUp: true };
  }
  return { position: from, caughtUp: false };
}

const rebuildSuperseded = (name: string) => conflict(`Another rebuild of ${name} started meanwhile and took over its shadow tables.`);

interface Flight {
  running?: Promise<void>;
  again: boolean;
}

/** One catch-up at a time per database binding, per isolate. */
const flights = new WeakMap<object, Flight>();

/**
 * Brings every live projection up to the head of the event store. Single-flight per isolate: a
 * call during a run marks one more pass and shares the run's promise, so it settles only after
 * the events that call was made for are applied (a waitUntil on it keeps the isolate for them).
 */
export function projectEvents(database: D1Database, options: RunOptions & Pick<CatchUpOptions, 'maxPages'> = {}): Promise<void> {
  let flight = flights.get(database);
  if (!flight) flights.set(database, (flight = { again: false }));
  if (flight.running) {
    flight.again = true;
    return flight.running;
  }
  const current = flight;
  const db = drizzle(database);
  current.running = (async () => {
    try {
      do {
        current.again = false;
        for (const name of Object.keys(PROJECTIONS) as ProjectionName[]) await advance(db, name, options);
      } while (current.again);
    } finally {
      current.running = undefined;
    }
  })();
  return current.running;
}

/**
 * Pages per projection one pass may apply: after a command, and on the cron. Bounded because a
 * pass runs in the invocation that triggered it, which Cloudflare caps in D1 calls (two a page)
 * and CPU: a backlog (a restore, events inserted in bulk) is worked off a bounded share per
 * command and per cron tick instead of by one invocation that cannot finish it, and a command's
 * isolate is never busy for seconds replaying it.
 */
export const PAGES_AFTER_COMMIT = 10;
export const PAGES_PER_CRON = 200;

/** After a command commits (or on the cron): catch the projections up once the answer is on its way. */
export function projectAfterCommit(env: { DB: D1Database }, ctx: Pick<ExecutionContext, 'waitUntil'>, log?: Logger, maxPages = PAGES_AFTER_COMMIT): void {
  ctx.waitUntil(
    projectEvents(env.DB, { maxPages }).catch((error: unknown) => {
      // The events are committed; the next command or the cron's pass applies them.
      log?.error('projection catch-up failed; the next pass retries', { error });
    }),
  );
}

export interface RebuildResult {
  name: ProjectionName;
  /** The global position the rebuilt copy stands at (the live one then goes on from there). */
  position: number;
  /** Rows in the rebuilt copy. */
  rows: number;
}

/** A rebuild's first step: empty the shadow tables and set the shadow checkpoint to 0, in one batch. */
export async function resetShadow(database: D1Database, name: ProjectionName): Promise<void> {
  const db = drizzle(database);
  await db.batch([PROJECTIONS[name].clear(db, 'shadow'), setCheckpoint(db, checkpointName(name, 'shadow'), 0)]);
}

/**
 * A rebuild's last step, once the shadow copy reached `position`, in one batch: check the shadow
 * is still there (another rebuild would have reset it: 409), replace the live rows with the
 * shadow's, set the live checkpoint to that position, empty the shadow. Answers the live rows.
 */
export async function swapInShadow(database: D1Database, name: ProjectionName, position: number): Promise<RebuildResult> {
  const db = drizzle(database);
  const projection: Projection<unknown> = PROJECTIONS[name];
  const shadow = checkpointName(name, 'shadow');
  const rowsIndex = 2 + projection.copyShadowToLive(db).length;
  let results: unknown[];
  try {
    results = await db.batch(
      asBatch([
        moveCheckpoint(db, shadow, position, position),
        ...projection.copyShadowToLive(db),
        setCheckpoint(db, checkpointName(name, 'live'), position),
        projection.countRows(db, 'live'),
        projection.clear(db, 'shadow'),
        setCheckpoint(db, shadow, 0),
      ]),
    );
  } catch (error) {
    if (isCheckpointMoved(error)) throw rebuildSuperseded(name);
    throw error;
  }
  const rows = Number((results[rowsIndex] as { rows: number }[])[0]?.rows ?? 0);
  return { name, position, rows };
}

/**
 * Rebuilds projection `name` from zero while the ledger keeps taking writes and the live copy
 * keeps serving and following them, all in one go:
 * 1. `resetShadow`;
 * 2. run the shadow copy from the first event up to the head (`advance`, target 'shadow');
 * 3. `swapInShadow`.
 * Events committed after step 2 are then applied to the new live rows by the live runner, from
 * that position, as any others. A live runner racing the swap loses its checkpoint move (or, at
 * the same position, writes what it would have written anyway).
 *
 * One go needs about two D1 calls per page of events, and Cloudflare caps the D1 calls of one
 * invocation (1,000 on the paid plan): the ledger's route runs these same steps in the
 * ProjectionRebuild Durable Object (rebuild-object.ts), a slice of pages per invocation. This
 * function is for tests and tools that hold the whole run in one place.
 */
export async function rebuildProjection(database: D1Database, name: ProjectionName, options: RunOptions = {}): Promise<RebuildResult> {
  await resetShadow(database, name);
  const position = await catchUp(drizzle(database), name, { ...options, target: 'shadow', onLostRace: 'throw' });
  return swapInShadow(database, name, position);
}
