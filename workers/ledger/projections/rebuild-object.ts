import { DurableObject } from 'cloudflare:workers';
import { drizzle } from 'drizzle-orm/d1';
import { isHttpError } from '../../../shared/http/problem';
import { createLogger, isLogLevel, type Logger } from '../../../shared/observability/logger';
import type { LedgerBindings } from '../env';
import { ledgerConfig } from '../ledger-config';
import { advance, resetShadow, swapInShadow, type ProjectionName } from './projection-runner';

/**
 * What an operator sees of a projection's rebuild (GET /_ops/projections/:name).
 * `position` is how far the shadow copy has read the events while `running`, and where the
 * rebuilt copy stands once `done`.
 */
export interface RebuildStatus {
  name: ProjectionName;
  status: 'running' | 'done' | 'failed';
  startedAt: string;
  finishedAt?: string;
  position: number;
  /** Rows in the rebuilt copy (`done`). */
  rows?: number;
  /** Invocations the rebuild has run slices in (the request that started it, then alarms). */
  slices: number;
  /** The last failure: with `running`, a transient one the next alarm retries. */
  error?: string;
  /** Why it `failed`: another rebuild took the shadow tables over, or too many failures in a row. */
  reason?: 'superseded' | 'failing';
}

interface Stored extends RebuildStatus {
  /**
   * `reset`: the shadow tables are still to be emptied; `advance`: they are being filled;
   * `live` (done): swapped in, the live copy still to be caught up from the swap's position, by
   * one more alarm; `finished`.
   */
  phase: 'reset' | 'advance' | 'live' | 'finished';
  /** Failed slices in a row. */
  failures: number;
}

const KEY = 'rebuild';
/** Failed slices in a row before the rebuild is given up (`failed`): backoff of 1+2+4+8+16 s ≈ 31 s. */
const MAX_FAILURES = 6;
const backoffMs = (failures: number) => Math.min(30_000, 500 * 2 ** failures);
/**
 * The alarm a slice arms before it touches D1: if the object is evicted or reset mid-slice (a
 * deploy, a CPU limit), the alarm still fires and the rebuild resumes from the shadow
 * checkpoint. A slice that ends normally replaces it.
 */
const WATCHDOG_MS = 60_000;

/**
 * One projection's rebuild, spread over as many invocations as it needs. Why a Durable Object:
 * Cloudflare caps the D1 calls one invocation may make (1,000 on the paid plan, 50 on the free
 * one), and a rebuild makes about two per page of events (a read, a batch): 100,000 events are
 * ~1,000 calls, so one request cannot rebuild them. Each DO request and each alarm is an
 * invocation of its own, so the object runs a slice of `LEDGER_REBUILD_PAGES_PER_SLICE` pages,
 * arms its alarm, and goes on from the shadow checkpoint (which the D1 batches keep, so a crash
 * between slices loses nothing). One object per projection name: one rebuild of a projection at
 * a time, across every isolate, and a second POST while it runs joins it instead of restarting.
 * The steps themselves are the runner's (`resetShadow`, `advance`, `swapInShadow`).
 *
 * Concurrency inside the object: D1 calls are not storage calls, so other requests and the
 * alarm may run while a slice awaits D1. Hence (1) `start` checks and claims the rebuild with
 * storage calls only (read, then write `running` before any D1 call: nothing can come between);
 * (2) `sliceInFlight` keeps an alarm from running a second slice beside the first (an eviction
 * clears it, exactly when resuming is wanted).
 */
export class ProjectionRebuild extends DurableObject<LedgerBindings> {
  private readonly log: Logger = createLogger({ service: 'ledger' }, { level: isLogLevel(this.env.LOG_LEVEL) ? this.env.LOG_LEVEL : 'info' });
  private sliceInFlight = false;

  /** Starts a rebuild of `name` (or joins the one running) and runs its first slice now. */
  async start(name: ProjectionName): Promise<RebuildStatus> {
    const current = await this.read();
    if (current?.status === 'running') {
      // Joined. If nothing drives it (no slice here, no alarm: lost with an old instance), resume.
      if (!this.sliceInFlight && (await this.ctx.storage.getAlarm()) === null) await this.ctx.storage.setAlarm(Date.now());
      return publicView(current);
    }
    const fresh: Stored = { name, status: 'running', phase: 'reset', startedAt: new Date().toISOString(), position: 0, slices: 0, failures: 0 };
    await this.ctx.storage.put(KEY, fresh);
    this.log.warn('projection rebuild started', { projection: name });
    return publicView(await this.slice(fresh));
  }

  /** The current or last rebuild; null if there never was one. */
  async status(): Promise<RebuildStatus | null> {
    const current = await this.read();
    return current ? publicView(current) : null;
  }

  override async alarm(): Promise<void> {
    const current = await this.read();
    if (current?.status === 'done' && current.phase === 'live') return this.catchUpLive(current);
    if (current?.status !== 'running') return;
    if (this.sliceInFlight) {
      // A slice is still running here (a long one, or the watchdog of a live one): look again later.
      await this.ctx.storage.setAlarm(Date.now() + WATCHDOG_MS);
      return;
    }
    await this.slice(current);
  }

  /**
   * One invocation's share: the reset if still due, up to a slice of pages into the shadow copy,
   * then either the swap (caught up) or the alarm for the next slice. A failure is retried by the
   * alarm with backoff; a superseded shadow (409) or too many failures in a row end the rebuild
   * as `failed`, and the live copy, untouched, keeps serving.
   */
  private async slice(state: Stored): Promise<Stored> {
    this.sliceInFlight = true;
    const { LEDGER_REBUILD_PAGES_PER_SLICE: maxPages } = ledgerConfig(this.env);
    let next: Stored = { ...state, slices: state.slices + 1 };
    try {
      await this.ctx.storage.setAlarm(Date.now() + WATCHDOG_MS);
      if (next.phase === 'reset') {
        await resetShadow(this.env.DB, state.name);
        next = { ...next, phase: 'advance' };
        await this.ctx.storage.put(KEY, next);
      }
      const db = drizzle(this.env.DB);
      const progress = await advance(db, state.name, { target: 'shadow', onLostRace: 'throw', maxPages });
      if (progress.caughtUp) {
        const { rows } = await swapInShadow(this.env.DB, state.name, progress.position);
        next = { ...next, status: 'done', phase: 'live', position: progress.position, rows, finishedAt: new Date().toISOString(), failures: 0, error: undefined };
        this.log.warn('projection rebuilt', { projection: state.name, position: progress.position, rows, slices: next.slices });
        // The live copy now stands at the shadow's position, which may be behind where it was:
        // the next alarm catches it up (an invocation of its own, so this slice's D1 calls stay
        // within one slice's share) rather than the next command or cron.
        await this.ctx.storage.setAlarm(Date.now());
      } else {
        next = { ...next, position: progress.position, failures: 0, error: undefined };
        await this.ctx.storage.setAlarm(Date.now());
      }
    } catch (error) {
      const failures = state.failures + 1;
      const message = error instanceof Error ? error.message : String(error);
      const superseded = isHttpError(error) && error.status === 409;
      const givenUp = superseded || failures >= MAX_FAILURES;
      next = { ...next, failures, error: message };
      if (givenUp) next = { ...next, status: 'failed', reason: superseded ? 'superseded' : 'failing', finishedAt: new Date().toISOString() };
      this.log.error(givenUp ? 'projection rebuild failed' : 'projection rebuild slice failed; retrying', { projection: state.name, failures, error });
      if (givenUp) await this.ctx.storage.deleteAlarm();
      else await this.ctx.storage.setAlarm(Date.now() + backoffMs(failures));
    } finally {
      this.sliceInFlight = false;
    }
    await this.ctx.storage.put(KEY, next);
    return next;
  }

  /** The alarm after a swap: up to a slice of pages into the live copy, then finished either way. */
  private async catchUpLive(state: Stored): Promise<void> {
    const { LEDGER_REBUILD_PAGES_PER_SLICE: maxPages } = ledgerConfig(this.env);
    await advance(drizzle(this.env.DB), state.name, { maxPages }).catch((error: unknown) =>
      this.log.error('projection catch-up after rebuild failed; the next pass retries', { projection: state.name, error }),
    );
    await this.ctx.storage.put(KEY, { ...state, phase: 'finished' });
  }

  private read(): Promise<Stored | undefined> {
    return this.ctx.storage.get<Stored>(KEY);
  }
}

const publicView = ({ failures: _failures, phase: _phase, ...status }: Stored): RebuildStatus => status;
