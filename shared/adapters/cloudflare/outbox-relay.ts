import { DurableObject } from 'cloudflare:workers';
import { drizzle } from 'drizzle-orm/d1';
import { z } from 'zod';
import { envConfig } from '../../validation/env-config';
import { createLogger, isLogLevel, type Logger } from '../../observability/logger';
import { dispatchOutbox, exponentialBackoff, type DispatchResult } from '../../outbox/dispatcher';
import { tracedPublisher } from '../../outbox/traced-publisher';
import { telemetryFor, type Telemetry, type TelemetryBindings } from '../../observability/telemetry';
import { qstashPublisher } from '../upstash/qstash-publisher';
import { timedPublisher } from '../../outbox/timed-publisher';
import { recordCall, type ServiceMetricsBindings } from './service-metrics';
import { d1OutboxStore, type DeadOutboxRow } from './outbox-table';

/** The worker's bindings the relay reads. */
export interface OutboxRelayBindings extends TelemetryBindings {
  /** The service's D1, holding its `outbox` table. */
  DB: D1Database;
  QSTASH_URL?: string;
  QSTASH_TOKEN?: string;
  /** Rows published per run; default 50 (at most 500). */
  OUTBOX_BATCH_SIZE?: string;
  /** Wait after a row's first failed publish, doubling per failure; default 1000 ms. */
  OUTBOX_RETRY_BASE_MS?: string;
  /** Longest wait between a row's attempts; default 300000 ms (5 minutes). */
  OUTBOX_RETRY_MAX_MS?: string;
  /** Failed publishes after which a row is parked as dead for an operator; default 50 (outboxConfig). */
  OUTBOX_MAX_ATTEMPTS?: string;
  /** How long a sent row is kept; default 7 days (outboxConfig). */
  OUTBOX_SENT_RETENTION_MS?: string;
  LOG_LEVEL?: string;
  /** service.name of the relay's spans and log lines (the worker that binds it); default `outbox-relay`. */
  OTEL_SERVICE_NAME?: string;
}

/**
 * The outbox's retention and give-up settings, parsed once per env (a bad value is a clear error
 * naming the variable). 50 attempts at the default backoff (1 s doubling to 5 minutes) is about
 * 4 hours of trying: long past any QStash outage a retry could ride out, short enough that a
 * destination refused for good is in front of an operator the same day. A sent row is kept a
 * week: QStash has it, so the row is only history for operators.
 */
export const outboxConfig = envConfig(
  z.object({
    OUTBOX_MAX_ATTEMPTS: z.coerce.number().int().min(1).default(50),
    OUTBOX_SENT_RETENTION_MS: z.coerce.number().int().min(60_000).default(7 * 24 * 60 * 60 * 1000),
  }),
  'outbox',
);

/** What a worker with an outbox binds (wrangler.toml: `OUTBOX`, class `OutboxRelay`). */
export interface OutboxBindings {
  OUTBOX: DurableObjectNamespace<OutboxRelay>;
}

/** One relay per worker: every isolate reaches the same object by this name. */
export const OUTBOX_RELAY_NAME = 'outbox';

export interface OutboxStatus {
  pending: number;
  sent: number;
  /** Rows parked after OUTBOX_MAX_ATTEMPTS failures, waiting for an operator's retry. */
  dead: number;
  /** When the oldest unsent row was written (ISO 8601); null when nothing is pending. */
  oldestPendingAt: string | null;
  /** When the next pending row is due (ISO 8601); null when nothing is pending. */
  nextAttemptAt: string | null;
}

const DEFAULTS = { batchSize: 50, retryBaseMs: 1_000, retryMaxMs: 300_000 };
/** How long a run's claim on its rows holds (the dispatcher's lease). */
const LEASE_MS = 60_000;

/**
 * Passes one run makes back to back before it leaves the rest to an alarm (a fresh event): under
 * steady commits kicks keep arriving, and a run that followed them for ever would be one endless
 * event of the object.
 */
const MAX_PASSES_PER_RUN = 20;

interface PassWaiter {
  resolve: (result: DispatchResult) => void;
  reject: (error: unknown) => void;
}

const intOr = (value: string | undefined, fallback: number, max: number): number => {
  const parsed = Number(value);
  return value !== undefined && value.trim() !== '' && Number.isInteger(parsed) && parsed > 0 && parsed <= max ? parsed : fallback;
};

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

/** Logged once per isolate, not on every kick: a missing QStash config is one fact, not a flood. */
let reportedUnconfigured = false;

/**
 * The outbox's publisher: a Durable Object, one per worker (`idFromName('outbox')`), so a
 * service has exactly one dispatcher running at a time however many isolates commit events.
 * It is a thin shell around `dispatchOutbox` (shared/outbox/dispatcher.ts):
 * - `kick()`, called right after a commit (`kickOutbox`), dispatches at once;
 * - while rows remain pending it keeps an alarm at the earliest next attempt, and `alarm()`
 *   dispatches again, so a failed publish is retried with backoff even if nothing else happens;
 * - passes never overlap inside the object, and the claim in D1 keeps two relays on one database
 *   (the catalog and its canary) apart;
 * - a kick waits for ONE pass that began after it arrived (so its commit's rows were there to
 *   publish), never for the whole run: a kick used to share the run's promise, and under steady
 *   commits the run went on pass after pass, holding every kicker's `waitUntil` (a saga's whole
 *   object, a request's context) until the commits paused.
 *
 * Without QSTASH_URL / QSTASH_TOKEN it publishes nothing and logs that once: rows stay pending,
 * nothing is lost, and the next kick after the configuration arrives publishes them.
 */
export class OutboxRelay extends DurableObject<OutboxRelayBindings> {
  private running: Promise<void> | null = null;
  /** Kicks since the last pass began: the next pass answers them. */
  private waiting: PassWaiter[] = [];
  private readonly telemetry: Telemetry = telemetryFor(this.env.OTEL_SERVICE_NAME || 'outbox-relay', this.env);
  private readonly log: Logger = createLogger(
    { service: 'outbox-relay' },
    { level: isLogLevel(this.env.LOG_LEVEL) ? this.env.LOG_LEVEL : 'info', write: this.telemetry.writer() },
  );

  /** Dispatch now; resolves with the outcome of the next pass to begin (which sees every row committed before the kick). */
  kick(): Promise<DispatchResult> {
    return this.dispatch();
  }

  override async alarm(): Promise<void> {
    try {
      await this.dispatch();
    } catch {
      // Logged and re-armed by the run; an alarm that throws would also be retried by the
      // runtime on its own schedule, on top of ours.
    }
  }

  async status(): Promise<OutboxStatus> {
    const summary = await this.store().summary();
    return {
      pending: summary.pending,
      sent: summary.sent,
      dead: summary.dead,
      oldestPendingAt: iso(summary.oldestPendingAt),
      nextAttemptAt: iso(summary.nextAttemptAt),
    };
  }

  /** The parked rows, oldest first (`GET /_ops/outbox`). */
  async dead(limit = 100): Promise<DeadOutboxRow[]> {
    return this.store().listDead(limit);
  }

  /** Un-parks one parked row (or all of them) and publishes at once; answers how many went back. */
  async retryDead(id: string | null): Promise<{ retried: number }> {
    const retried = await this.store().retryDead(id, Date.now());
    if (retried > 0) {
      this.log.warn('parked outbox rows retried by an operator', { id, retried });
      await this.dispatch().catch(() => undefined);
    }
    return { retried };
  }

  private store() {
    return d1OutboxStore(drizzle(this.env.DB));
  }

  /** The outcome of the next pass to begin (starting a run if none is on). */
  private dispatch(): Promise<DispatchResult> {
    const outcome = new Promise<DispatchResult>((resolve, reject) => this.waiting.push({ resolve, reject }));
    this.running ??= this.run();
    return outcome;
  }

  /** Passes while kicks wait for one, at most MAX_PASSES_PER_RUN; then an alarm takes over. */
  private async run(): Promise<void> {
    try {
      for (let pass = 0; this.waiting.length > 0; pass++) {
        if (pass === MAX_PASSES_PER_RUN) {
          // Still kicked: the alarm's run answers them (it begins with a pass of its own).
          await this.ctx.storage.setAlarm(Date.now()).catch(() => undefined);
          return;
        }
        const answering = this.waiting;
        this.waiting = [];
        try {
          const result = await this.runOnce();
          for (const waiter of answering) waiter.resolve(result);
        } catch (error) {
          for (const waiter of answering) waiter.reject(error);
        }
      }
    } finally {
      this.running = null;
      // The run's publish spans and log lines leave after it.
      this.telemetry.flush((promise) => this.ctx.waitUntil(promise));
    }
  }

  private async runOnce(): Promise<DispatchResult> {
    const store = this.store();
    const { QSTASH_URL: url, QSTASH_TOKEN: token } = this.env;
    if (!url || !token) {
      if (!reportedUnconfigured) {
        reportedUnconfigured = true;
        this.log.error('QSTASH_URL or QSTASH_TOKEN is missing: outbox rows stay pending until it is configured');
      }
      const summary = await store.summary();
      return summary.nextAttemptAt === null
        ? { sent: 0, failed: 0, parked: 0, pending: summary.pending }
        : { sent: 0, failed: 0, parked: 0, pending: summary.pending, nextAttemptAt: summary.nextAttemptAt };
    }

    const retryBaseMs = intOr(this.env.OUTBOX_RETRY_BASE_MS, DEFAULTS.retryBaseMs, 86_400_000);
    try {
      // A safety net first: if this run dies (eviction, a deploy), the alarm still fires once its
      // claims have lapsed and publishes what the run did not. Replaced below when the run ends.
      await this.ctx.storage.setAlarm(Date.now() + LEASE_MS + 1_000);
      const config = outboxConfig(this.env);
      // Each publish timed as service_call_duration_seconds{to="qstash"} (service-metrics.ts).
      const publisher = timedPublisher(qstashPublisher({ url, token }), (call) => recordCall(this.env as Partial<ServiceMetricsBindings>, this.ctx, call));
      const result = await dispatchOutbox(store, tracedPublisher(publisher, this.telemetry.tracer), {
        leaseMs: LEASE_MS,
        maxAttempts: config.OUTBOX_MAX_ATTEMPTS,
        limit: intOr(this.env.OUTBOX_BATCH_SIZE, DEFAULTS.batchSize, 500),
        backoff: exponentialBackoff({ baseMs: retryBaseMs, maxMs: intOr(this.env.OUTBOX_RETRY_MAX_MS, DEFAULTS.retryMaxMs, 86_400_000) }),
      });
      if (result.parked > 0) this.log.error('outbox rows parked as dead after their last attempt; an operator retries them from /_ops/outbox', { ...result });
      else if (result.failed > 0) this.log.warn('outbox publish failed; rows kept for retry', { ...result });
      // Retention: sent rows are history once QStash has them. A bounded batch per run; the
      // cron's heartbeat makes a run at least once a minute, so a backlog is worked off.
      await store
        .prune(Date.now() - config.OUTBOX_SENT_RETENTION_MS)
        .then((pruned) => pruned > 0 && this.log.info('sent outbox rows pruned', { pruned }))
        .catch((error: unknown) => this.log.warn('outbox prune failed; next run tries again', { error }));
      // Pending rows (failed, not yet due, or beyond this run's limit): wake at the earliest.
      if (result.pending > 0) await this.ctx.storage.setAlarm(Math.max(result.nextAttemptAt ?? Date.now() + retryBaseMs, Date.now()));
      else await this.ctx.storage.deleteAlarm();
      return result;
    } catch (error) {
      // The store itself failed (D1 unavailable): nothing is lost, try again after the base wait.
      this.log.error('outbox dispatch failed', { error });
      await this.ctx.storage.setAlarm(Date.now() + retryBaseMs);
      throw error;
    }
  }
}

/** The worker's relay. */
export const outboxRelay = (env: OutboxBindings) => env.OUTBOX.get(env.OUTBOX.idFromName(OUTBOX_RELAY_NAME));

const fallbackLog = createLogger({ service: 'outbox-relay' });

/**
 * Right after a commit that wrote outbox rows: the immediate publish attempt, in the background
 * (`waitUntil`), so the answer does not wait on QStash. A failure is only logged: the rows are
 * committed, and the relay's alarm (or the next kick) publishes them.
 */
export function kickOutbox(env: OutboxBindings, ctx: Pick<ExecutionContext, 'waitUntil'>, log: Logger = fallbackLog): void {
  ctx.waitUntil(
    outboxRelay(env)
      .kick()
      .then(
        () => undefined,
        (error: unknown) => log.error('outbox kick failed; the relay retries on its alarm', { error }),
      ),
  );
}

/**
 * The outbox's heartbeat, for a worker's cron trigger (`[triggers] crons` in its wrangler.toml):
 * kicks the relay once a minute. The relay sleeps when nothing is pending and wakes on the kick
 * that follows a commit; if that one kick is lost (an isolate gone before its waitUntil ran), a
 * row would otherwise wait for the service's next commit, which a quiet service may never make.
 */
export function outboxHeartbeat(_controller: ScheduledController, env: OutboxBindings, ctx: ExecutionContext): void {
  kickOutbox(env, ctx);
}
