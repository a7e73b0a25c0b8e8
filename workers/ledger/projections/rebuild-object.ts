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
  /** Invocations the rebuild has run in (the request that started it, then one per alarm). */
  slices: number;
  /** The last failure: with `running`, a transient one the next alarm retries. */
  error?: string;
}

interface Stored extends RebuildStatus {
  /** Failed slices in a row. */
  failures: number;
}

const KEY = 'rebuild';
/** Failed slices in a row before the rebuild is given up (`failed`): about a minute of backoff. */
const MAX_FAILURES = 6;
const backoffMs = (failures: number) => Math.min(30_000, 500 * 2 ** failures);

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
 */
export class ProjectionRebuild extends DurableObject<LedgerBindings> {
  private readonly log: Logger = createLogger({ service: 'ledger' }, { level: isLogLevel(this.env.LOG_LEVEL) ? this.env.LOG_LEVEL : 'info' });

  /** Starts a rebuild of `name` (or joins the one running) and runs its first slice now. */
  async start(name: ProjectionName): Promise<RebuildStatus> {
    const current = await this.read();
    if (current?.status === 'running') return publicView(current);
    await resetShadow(this.env.DB, name);
    const fresh: Stored = { name, status: 'running', startedAt: new Date().toISOString(), position: 0, slices: 0, failures: 0 };
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
    if (current?.status === 'running') await this.slice(current);
  }

  /**
   * One invocation's share: up to a slice of pages into the shadow copy, then either the swap
   * (caught up) or the alarm for the next slice. A failure is retried by the alarm with backoff;
   * a superseded shadow (409) or too many failures in a row end the rebuild as `failed`, and the
   * live copy, untouched, keeps serving.
   */
  private async slice(state: Stored): Promise<Stored> {
    const { LEDGER_REBUILD_PAGES_PER_SLICE: maxPages } = ledgerConfig(this.env);
    let next: Stored = { ...state, slices: state.slices + 1 };
    try {
      const progress = await advance(drizzle(this.env.DB), state.name, { target: 'shadow', onLostRace: 'throw', maxPages });
      if (progress.caughtUp) {
        const { rows } = await swapInShadow(this.env.DB, state.name, progress.position);
        next = { ...next, status: 'done', position: progress.position, rows, finishedAt: new Date().toISOString(), failures: 0, error: undefined };
        this.log.warn('projection rebuilt', { projection: state.name, position: progress.position, rows, slices: next.slices });
      } else {
        next = { ...next, position: progress.position, failures: 0, error: undefined };
        await this.ctx.storage.setAlarm(Date.now());
      }
    } catch (error) {
      const failures = state.failures + 1;
      const message = error instanceof Error ? error.message : String(error);
      const givenUp = (isHttpError(error) && error.status === 409) || failures >= MAX_FAILURES;
      next = { ...next, failures, error: message, ...(givenUp ? { status: 'failed' as const, finishedAt: new Date().toISOString() } : {}) };
      this.log.error(givenUp ? 'projection rebuild failed' : 'projection rebuild slice failed; retrying', { projection: state.name, failures, error });
      if (!givenUp) await this.ctx.storage.setAlarm(Date.now() + backoffMs(failures));
    }
    await this.ctx.storage.put(KEY, next);
    return next;
  }

  private read(): Promise<Stored | undefined> {
    return this.ctx.storage.get<Stored>(KEY);
  }
}

const publicView = ({ failures: _failures, ...status }: Stored): RebuildStatus => status;
