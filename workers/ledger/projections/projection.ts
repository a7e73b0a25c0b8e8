import type { DrizzleD1Database } from 'drizzle-orm/d1';
import type { D1Statement } from '../../../shared/adapters/cloudflare/d1-event-store';
import type { RecordedEvent } from '../../../shared/event-store/event-store';
import type { AccountEvent } from '../account';

/** Which copy of a projection's tables a statement writes: the one reads use, or a rebuild's shadow. */
export type ProjectionTarget = 'live' | 'shadow';

/**
 * A read model built from the ledger's events. The decision is pure: `changes` says what one
 * event does to the rows, with no I/O and no clock (the event carries its own time), so it is
 * tested without a database. `statement` only builds the unexecuted SQL for one change; the
 * runner (projection-runner.ts) reads the events, batches the statements with the checkpoint's
 * move, and is the only part that touches D1.
 *
 * Changes are relative where they can be ("add 250 to the balance"), so a statement needs no
 * read before it: the checkpoint moving in the same batch is what makes each event apply
 * exactly once.
 */
export interface Projection<Change> {
  /** Its name in routes and in projection_checkpoints. */
  readonly name: string;
  /** The row changes one stored event makes, in order; [] for events it ignores. */
  changes(event: RecordedEvent<AccountEvent>): Change[];
  /** The statement that makes `change` in the `target` copy of the tables. */
  statement(db: DrizzleD1Database<any>, target: ProjectionTarget, change: Change): D1Statement;
  /** Empties the `target` copy (a rebuild starts its shadow from nothing). */
  clear(db: DrizzleD1Database<any>, target: ProjectionTarget): D1Statement;
  /** Replaces the live rows with the shadow's, in the swap's batch. */
  copyShadowToLive(db: DrizzleD1Database<any>): D1Statement[];
  /** Counts the `target` copy's rows. */
  countRows(db: DrizzleD1Database<any>, target: ProjectionTarget): D1Statement;
}
