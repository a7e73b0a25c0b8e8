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
 * The guard is a claim with a deadline, not a flag its run must clear: each run is bounded in
 * D1 calls and time, and a run whose request was cancelled (it never settles) loses its claim at
 * its deadline.
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
  /**
   * Stop before making more than this many D1 calls in all (checkpoint reads after lost races and
   * the last, empty read included): the bound a caller sharing an invocation's D1 allowance needs.
   * At least 3 (a checkpoint read, an event read, a batch).
   */
  maxCalls?: number;
  /** Start no page after this time (epoch ms): a run inside a waitUntil ends before its limit. */
  deadline?: number;
}

export interface CatchUpProgress {
  /** The global position reached. */
  position: number;
  /** True when the last page read was the head's (nothing left after `position` then). */
  caughtUp: boolean;
  /** D1 calls made. */
  calls: number;
}

/**
 * Applies every event after projection `name`'s checkpoint to its `target` copy, page by page,
 * and answers the position reached (the head as it was when the last page was read). Not
 * guarded per isolate: `projectEvents` is the entry point for the live copies.
 */
export async function catchUp(db: DrizzleD1Database<any>, name: ProjectionName, options: CatchUpOptions = {}): Promise<number> {
  return (await advance(db, name, options)).position;
}

/** `catchUp`, stopping after `maxPages` pages, `maxCalls` D1 calls or at `deadline`: answers how far it got and whether that is the head. */
export async function advance(db: DrizzleD1Database<any>, name: ProjectionName, options: CatchUpOptions = {}): Promise<CatchUpProgress> {
  const { target = 'live', pageSize = DEFAULT_PAGE_SIZE, onLostRace = 'retry', maxPages = Infinity, maxCalls = Infinity, deadline = Infinity } = options;
  if (maxCalls < 3) throw new RangeError(`advance needs room for at least 3 D1 calls, not ${maxCalls}`);
  const projection: Projection<unknown> = PROJECTIONS[name];
  const checkpoint = checkpointName(name, target);
  const store = d1EventStore(db);
  let calls = 1;
  let from = await readCheckpoint(db, checkpoint);
  // Room for a page: its read and its batch.
  for (let lost = 0, pages = 0; pages < maxPages && calls + 2 <= maxCalls && Date.now() < deadline; ) {
    calls++;
    const events = await store.readAll<AccountEvent>({ after: from, limit: pageSize });
    if (events.length === 0) return { position: from, caughtUp: true, calls };
    const to = events.at(-1)!.globalPosition;
    const changes = events.flatMap((event) => projection.changes(event).map((change) => projection.statement(db, target, change)));
    try {
      calls++;
      // The checkpoint first: a loser fails on its first statement.
      await db.batch(asBatch([moveCheckpoint(db, checkpoint, from, to), ...changes]));
    } catch (error) {
      if (!isCheckpointMoved(error)) throw error;
      if (onLostRace === 'throw') throw rebuildSuperseded(name);
      if (++lost >= MAX_LOST_RACES) throw new Error(`projection ${name} (${target}) lost ${lost} checkpoint races in a row`);
      // Where the winner left it is unknown until read again; without room to read, stop here.
      if (calls + 1 > maxCalls) return { position: from, caughtUp: false, calls };
      calls++;
      from = await readCheckpoint(db, checkpoint);
      continue;
    }
    lost = 0;
    pages++;
    from = to;
    if (events.length < pageSize) return { position: to, caughtUp: true, calls };
  }
  return { position: from, caughtUp: false, calls };
}

const rebuildSuperseded = (name: string) => conflict(`Another rebuild of ${name} started meanwhile and took over its shadow tables.`);

/**
 * How long one catch-up may run (it starts no page after this) and so how long its claim on the
 * isolate lasts: under the 30 s a waitUntil may outlive its answer on Cloudflare. A run whose
 * invocation was cancelled never settles; its claim still ends here, and the next trigger (or a
 * caller waiting for it) takes over. So a cancelled request delays this isolate's read models by
 * at most this long, never for the isolate's life.
 */
export const RUN_DEADLINE_MS = 20_000;

interface Flight {
  /** The run under way, if any. */
  running?: Promise<void>;
  /** When the run's claim ends (its deadline): past it, the run is treated as gone. */
  claimEnds: number;
  /** Triggers so far, and the last trigger a finished pass started after (so it applied its events). */
  requested: number;
  served: number;
}

/** One catch-up at a time per database binding, per isolate. */
const flights = new WeakMap<object, Flight>();

export interface ProjectOptions extends RunOptions {
  /**
   * Pages per projection this invocation may apply, as a D1 call budget: 1 + 2 × maxPages calls
   * per projection, for every pass, re-read and lost race of the run together.
   */
  maxPages?: number;
  /** The run's deadline from its start, in ms (RUN_DEADLINE_MS). */
  runDeadlineMs?: number;
}

/** Resolves after `ms` or when `settled` does, whichever is first, and leaves no timer behind. */
function waitAtMost(settled: Promise<unknown>, ms: number): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  return Promise.race([
    settled.then(
      () => undefined,
      () => undefined,
    ),
    new Promise<void>((resolve) => (timer = setTimeout(resolve, Math.max(0, ms)))),
  ]).finally(() => clearTimeout(timer));
}

/**
 * Brings every live projection up to the head of the event store, within this invocation's
 * budget. Single-flight per isolate: a call during a run waits for a pass that starts after it
 * (the run makes one more if its budget allows), so it settles once the events it was made for
 * are applied (a waitUntil on it keeps the isolate for them). A run's claim ends at its deadline:
 * a caller still waiting then, or whose events the run had no budget left for, runs a bounded
 * catch-up of its own. No run outlives its deadline or its D1 budget, whatever the traffic.
 */
export async function projectEvents(database: D1Database, options: ProjectOptions = {}): Promise<void> {
  let flight = flights.get(database);
  if (!flight) flights.set(database, (flight = { claimEnds: 0, requested: 0, served: 0 }));
  const ticket = ++flight.requested;
  for (;;) {
    if (flight.served >= ticket) return;
    const running = flight.running;
    if (!running || Date.now() >= flight.claimEnds) break;
    await waitAtMost(running, flight.claimEnds - Date.now());
  }
  const current = flight;
  const deadline = Date.now() + (options.runDeadlineMs ?? RUN_DEADLINE_MS);
  const run = runPasses(drizzle(database), current, deadline, options).finally(() => {
    if (current.running === run) current.running = undefined;
  });
  current.running = run;
  current.claimEnds = deadline;
  return run;
}

/**
 * Passes over every projection while a trigger is unserved, the deadline is not past and each
 * projection has D1 calls left; a pass that reaches every head serves the triggers made before it.
 */
async function runPasses(db: DrizzleD1Database<any>, flight: Flight, deadline: number, options: ProjectOptions): Promise<void> {
  const names = Object.keys(PROJECTIONS) as ProjectionName[];
  const callsLeft = new Map(names.map((name) => [name, 1 + 2 * (options.maxPages ?? Infinity)]));
  while (flight.served < flight.requested && Date.now() < deadline && names.every((name) => callsLeft.get(name)! >= 3)) {
    const ticket = flight.requested;
    let caughtUp = true;
    for (const name of names) {
      const progress = await advance(db, name, { pageSize: options.pageSize, maxCalls: callsLeft.get(name)!, deadline });
      callsLeft.set(name, callsLeft.get(name)! - progress.calls);
      caughtUp &&= progress.caughtUp;
    }
    if (!caughtUp) return; // out of budget or time: the backlog waits for the next trigger or the cron
    flight.served = Math.max(flight.served, ticket);
  }
}

/**
 * Pages per projection one invocation may apply: after a command, and on the cron. Bounded
 * because a run happens in the invocation that triggered it, which Cloudflare caps in D1 calls
 * and time: after a command, 2 × (1 + 2 × 10) = 42 calls, which with the command's own few stays
 * under Workers Free's 50; a backlog (a restore, events inserted in bulk) is worked off a bounded
 * share per command and per cron tick instead of by one invocation that cannot finish it, and a
 * command's isolate is never busy for seconds replaying it.
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
