import { DurableObject } from 'cloudflare:workers';
import { eq } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/d1';
import { kickOutbox } from '../../shared/adapters/cloudflare/outbox-relay';
import { tracedD1 } from '../../shared/adapters/cloudflare/traced-d1';
import { createLogger, isLogLevel, type Logger } from '../../shared/observability/logger';
import { parentOf, SpanKind, SpanStatus } from '../../shared/observability/span';
import { telemetryFor } from '../../shared/observability/telemetry';
import {
  beginStep,
  compensateStuck,
  isTerminal,
  nextAction,
  resolveStuck,
  SagaActionRefused,
  retryStuck,
  settleStep,
  startSaga,
  type SagaState,
} from '../../shared/saga/saga';
import type { OrdersBindings } from './env';
import { crashBucket } from './crash-bucket';
import { snapshotOf, type LiveSnapshot } from './live-view';
import { orderSagaPlan, sagaConfig } from './order-saga-config';
import { OrderRecords } from './order-records';
import type { PlacedOrder } from './placed-order';
import { performStep } from './saga-steps';
import { orders } from './schema';

interface Stored {
  order: PlacedOrder;
  saga: SagaState;
  /** Whether the order row and `order.placed` are in D1 yet. */
  recorded: boolean;
  /** When the saga was first seen ended (epoch ms): its storage goes SAGA_RETENTION_MS later. */
  endedAt?: number;
  /** Saves so far: orders the pushes to the order's live object (live-view.ts), so an older one never wins. */
  revision?: number;
}

/** An operator's action on a STUCK saga (`POST /_ops/sagas/:orderId/<action>`). */
export type OperatorAction = 'retry' | 'compensate' | 'resolve';
/** What an operator's action came to: done, refused (why), or no saga here (storage gone). */
export type OperatorResult = { kind: 'done'; status: SagaState['status'] } | { kind: 'refused'; detail: string } | { kind: 'missing' };

export type PlaceResult =
  | { kind: 'created' | 'existing'; orderId: string; status: SagaState['status'] }
  /** The same idempotency key with a different request. */
  | { kind: 'conflict'; orderId: string };

/** How long a saga waits to record its order again when its own D1 failed. */
const RECORD_RETRY_MS = 1_000;

/** Steps one wake runs at most before handing over to a fresh alarm (a bound, not a rhythm). */
const MAX_STEPS_PER_WAKE = 16;

/**
 * One order's saga (docs/architecture.md, decision 5), a thin shell around shared/saga/saga.ts: it loads the
 * state, asks the core what to do, persists the attempt BEFORE calling the participant and the
 * outcome AFTER, and sleeps on an alarm between attempts. Storage is the log: an eviction or a
 * crash at any point resumes from it, and the participants' idempotency keys make a repeated
 * attempt harmless. A Durable Object because a saga needs exactly one driver and a durable timer,
 * which is what an object with alarms is.
 */
export class OrderSaga extends DurableObject<OrdersBindings> {
  /** Whether anyone has watched this order live (stored as `watched`; read once per life of the object). */
  private watched: boolean | undefined;

  private log(): Logger {
    const level = this.env.LOG_LEVEL;
    return createLogger({ service: 'orders', component: 'order-saga' }, { level: isLogLevel(level) ? level : 'info', write: this.telemetry().writer() });
  }

  /** The orders service's spans and log export in this object's isolate (shared/observability/telemetry.ts). */
  private telemetry() {
    return telemetryFor('orders', this.env);
  }

  /**
   * A retry of an order this key already placed: its answer, or null when there is none yet.
   * Asked before anything else, so a retry is answered even while the catalog is down.
   */
  async replay(fingerprint: string): Promise<PlaceResult | null> {
    const stored = await this.ctx.storage.get<Stored>('state');
    if (!stored) return null;
    if (stored.order.fingerprint !== fingerprint) return { kind: 'conflict', orderId: stored.order.orderId };
    // A retry also restarts a saga whose alarm was lost (the runtime gave up retrying it, or the
    // object died between storing the saga and arming it): a saga that has not ended has one.
    if (!isTerminal(stored.saga.status) && (await this.ctx.storage.getAlarm()) === null) await this.ctx.storage.setAlarm(Date.now());
    return { kind: 'existing', orderId: stored.order.orderId, status: stored.saga.status };
  }

  /**
   * An ended saga deletes its storage after SAGA_RETENTION_MS; its order row stays, and still
   * answers a retry of the key (no second order). The body can no longer be compared then: the
   * fingerprint lived in storage, so a reused key with another body is answered as a replay.
   */
  private async replayFromRecord(orderId: string): Promise<PlaceResult | null> {
    const row = await drizzle(this.env.DB).select({ status: orders.status }).from(orders).where(eq(orders.id, orderId)).get();
    return row ? { kind: 'existing', orderId, status: row.status } : null;
  }

  /** Starts the saga for a new order, or answers with the one this key already started. */
  async place(order: PlacedOrder): Promise<PlaceResult> {
    const existing = await this.replay(order.fingerprint);
    if (existing) return existing;
    // A saga that ended and deleted its storage left its order row: the key is answered by it.
    // That read is I/O, so another call may have placed the order meanwhile: storage is read
    // again, and nothing but storage runs between that read and the write below.
    const recorded = await this.replayFromRecord(order.orderId);
    const placedMeanwhile = await this.replay(order.fingerprint);
    if (placedMeanwhile) return placedMeanwhile;
    if (recorded) return recorded;
    const now = Date.now();
    const state: Stored = { order, saga: startSaga(orderSagaPlan(this.env), order.orderId, now), recorded: false };
    await this.ctx.storage.put('state', state);
    // Runs the saga from a fresh invocation; if recording below fails, it records first.
    await this.ctx.storage.setAlarm(now);
    try {
      await this.recordOrder();
    } catch (error) {
      // The saga is stored and armed: its alarm records the order before anything else.
      this.log().warn('order not recorded yet; the saga records it first', { orderId: order.orderId, error });
    }
    return { kind: 'created', orderId: order.orderId, status: state.saga.status };
  }

  /** The order and its saga as they stand (never a card number, even from a saga stored before tokens). */
  async view(): Promise<{ order: Omit<PlacedOrder, 'card'>; saga: SagaState } | null> {
    const stored = await this.ctx.storage.get<Stored>('state');
    if (!stored) return null;
    const { card: _card, ...order } = stored.order;
    return { order, saga: stored.saga };
  }

  /**
   * The order's live object asks when a watcher connects: the saga as it stands, and from now on
   * every save is pushed to it (`pushLive`). Null once an ended saga's storage is gone.
   */
  async watch(): Promise<LiveSnapshot | null> {
    const stored = await this.ctx.storage.get<Stored>('state');
    if (!stored) return null;
    if (this.watched !== true) {
      this.watched = true;
      await this.ctx.storage.put('watched', true);
    }
    return snapshotOf(stored.saga, stored.revision ?? 0);
  }

  override async alarm(): Promise<void> {
    try {
      await this.runSaga();
    } finally {
      // This wake's spans and log lines leave after it, not on its way.
      this.telemetry().flush((promise) => this.ctx.waitUntil(promise));
    }
  }

  private async runSaga(): Promise<void> {
    let stored = await this.ctx.storage.get<Stored>('state');
    if (!stored) return;
    if (!stored.recorded) {
      try {
        stored = await this.recordOrder();
      } catch (error) {
        // Our own D1 is down: try again in a while, on our alarm (the runtime's own retries of a
        // failing alarm give up after a few), rather than run a saga no one can see.
        this.log().warn('order not recorded; retrying', { orderId: stored.order.orderId, error });
        await this.ctx.storage.setAlarm(Date.now() + RECORD_RETRY_MS);
        return;
      }
    }
    const plan = orderSagaPlan(this.env);
    const records = new OrderRecords(this.env.DB);
    for (let i = 0; i < MAX_STEPS_PER_WAKE; i++) {
      const { state: saga, action } = nextAction(plan, stored.saga, Date.now());
      if (saga !== stored.saga) stored = await this.save({ ...stored, saga }, records);
      if (action.kind === 'done') {
        await this.retainOrDelete(stored);
        return;
      }
      if (action.kind === 'parked') {
        // Refused for good: nothing to retry on a timer; an operator's action wakes it.
        await this.ctx.storage.deleteAlarm();
        return;
      }
      if (action.kind === 'wait') {
        await this.ctx.storage.setAlarm(action.until);
        return;
      }
      // Before the call: the attempt is on record, and the alarm is a watchdog at its lease's
      // end, so a crash during the call wakes the saga to run the step again. Storage only: the
      // D1 mirror is written after the outcome (one D1 write per attempt, not two), so readers
      // see a step once it has an outcome, with its attempts counted.
      stored = await this.save({ ...stored, saga: beginStep(plan, stored.saga, Date.now()) }, records, { mirror: false });
      await this.ctx.storage.setAlarm(stored.saga.notBefore);
      const step = action.step.name;
      // The step's span: a child of the request that placed the order, begun by an alarm after
      // that request may have answered (hence CONSUMER: asynchronous work it started). It lasts
      // until the outcome is stored, and the participants' spans are its children.
      const compensation = action.step.kind === 'compensation';
      const placedBy = parentOf(stored.order.traceparent);
      const span = placedBy
        ? this.telemetry().tracer.start(`saga ${compensation ? 'compensate' : 'step'} ${step}`, SpanKind.CONSUMER, placedBy, {
            'saga.order_id': stored.order.orderId,
            'saga.step': step,
            'saga.step.kind': action.step.kind,
            'saga.step.attempt': stored.saga.steps[action.index]?.attempts,
          })
        : undefined;
      const outcome = await performStep(this.env, stored.order, stored.saga, step, span);
      await this.maybeCrash(stored, step);
      const settled = settleStep(plan, stored.saga, outcome, Date.now(), Math.random);
      span?.setAttribute('saga.outcome', outcome.kind);
      if (outcome.kind !== 'ok') {
        const attempts = stored.saga.steps[action.index]?.attempts ?? 0;
        const fields = { orderId: stored.order.orderId, step, attempts, outcome: outcome.kind, error: outcome.error };
        // A step that cannot be given up (past the pivot, or a compensation) and keeps failing, or
        // was refused for good, needs a person: STUCK (a status, a metric, /_ops/sagas?status=STUCK).
        if (settled.status === 'STUCK' && stored.saga.status !== 'STUCK') {
          this.log().error('saga stuck: a step that must succeed keeps failing or was refused for good', { ...fields, parked: settled.stuck?.parked });
        } else this.log().warn('saga step failed', fields);
      }
      stored = await this.save({ ...stored, saga: settled }, span ? new OrderRecords(tracedD1(this.env.DB, this.telemetry().tracer, span)) : records);
      span?.end(outcome.kind === 'ok' ? SpanStatus.UNSET : SpanStatus.ERROR);
      if (isTerminal(settled.status)) {
        this.log().info('saga ended', { orderId: stored.order.orderId, status: settled.status, reason: settled.reason });
        // The final step wrote the order event: publish it now rather than at the relay's next alarm.
        kickOutbox(this.env, this.ctx, this.log());
      }
    }
    await this.ctx.storage.setAlarm(Date.now());
  }

  /**
   * An ended saga's storage is kept SAGA_RETENTION_MS (for whoever debugs it), then deleted by
   * its own alarm: a year of orders must not leave a year of objects with storage. The D1 order
   * row is the record that stays.
   */
  private async retainOrDelete(stored: Stored): Promise<void> {
    const now = Date.now();
    const endedAt = stored.endedAt ?? now;
    if (stored.endedAt === undefined) await this.ctx.storage.put('state', { ...stored, endedAt });
    const until = endedAt + sagaConfig(this.env).SAGA_RETENTION_MS;
    if (now < until) {
      await this.ctx.storage.setAlarm(until);
      return;
    }
    await this.ctx.storage.deleteAlarm();
    await this.ctx.storage.deleteAll();
    this.log().info('ended saga storage deleted after its retention', { orderId: stored.order.orderId, status: stored.saga.status });
  }

  /**
   * An operator's action on a STUCK saga, recorded in its timeline (shared/saga: retryStuck,
   * compensateStuck, resolveStuck refuse with SagaActionRefused where the action does not apply).
   */
  async operate(action: OperatorAction, note?: string): Promise<OperatorResult> {
    const stored = await this.ctx.storage.get<Stored>('state');
    if (!stored) return { kind: 'missing' };
    const now = Date.now();
    const plan = orderSagaPlan(this.env);
    let saga: SagaState;
    try {
      saga =
        action === 'retry' ? retryStuck(stored.saga, now, note) : action === 'compensate' ? compensateStuck(plan, stored.saga, now, note) : resolveStuck(stored.saga, now, note);
    } catch (error) {
      // Answered as a value: a thrown error's own class does not survive the RPC back.
      if (error instanceof SagaActionRefused) return { kind: 'refused', detail: error.message };
      throw error;
    }
    const records = new OrderRecords(this.env.DB);
    const next = await this.save({ ...stored, saga }, records);
    this.log().warn('operator acted on a stuck saga', { orderId: stored.order.orderId, action, note, status: saga.status });
    if (action === 'resolve' && (saga.status === 'COMPLETED' || saga.status === 'CANCELLED')) {
      // The step that would have written the final status and its event was skipped: write them here.
      await records.settle(next.order, saga, saga.status);
      kickOutbox(this.env, this.ctx, this.log());
    }
    await this.ctx.storage.setAlarm(now);
    return { kind: 'done', status: saga.status };
  }

  /**
   * The cron's sweep: an unfinished saga that is not waiting for an operator has an alarm; one
   * whose alarm was lost (the runtime gave up retrying it, or the object died between storing
   * and arming) is armed again. Answers whether it had to be.
   */
  async ensureArmed(): Promise<boolean> {
    const stored = await this.ctx.storage.get<Stored>('state');
    if (!stored || isTerminal(stored.saga.status) || stored.saga.stuck?.parked) return false;
    if ((await this.ctx.storage.getAlarm()) !== null) return false;
    await this.ctx.storage.setAlarm(Date.now());
    return true;
  }

  /** Storage first (the authority), then the D1 mirror unless told not to (best effort: the next save repeats it). */
  private async save(next: Stored, records: OrderRecords, { mirror = true } = {}): Promise<Stored> {
    const stored = { ...withoutSpentCard(next), revision: (next.revision ?? 0) + 1 };
    await this.ctx.storage.put('state', stored);
    await this.pushLive(stored);
    if (mirror && stored.recorded) {
      try {
        await records.mirror(stored.saga);
      } catch (error) {
        this.log().warn('order mirror not written; the next step writes it', { orderId: stored.order.orderId, error });
      }
    }
    return stored;
  }

  /**
   * Tells the order's live object (order-live.ts) the saga as it now stands, if anyone has ever
   * watched this order: an order nobody watches costs no call. Not awaited: a slow or failed push
   * never holds the saga up, and the next push (the whole state again) heals a lost one.
   */
  private async pushLive(stored: Stored): Promise<void> {
    this.watched ??= (await this.ctx.storage.get<boolean>('watched')) === true;
    if (!this.watched) return;
    const live = this.env.ORDER_LIVE.get(this.env.ORDER_LIVE.idFromName(stored.order.orderId));
    this.ctx.waitUntil(live.publish(snapshotOf(stored.saga, stored.revision ?? 0)).catch((error: unknown) => this.log().warn('live push failed; the next one carries the whole state', { orderId: stored.order.orderId, error })));
  }

  /**
   * Writes the order row and `order.placed`, then flags the saga recorded. The flag is set on the
   * state as it is AFTER the D1 write (read again, no I/O between the read and the write): the
   * alarm may have run steps meanwhile, and an older copy must never overwrite them.
   */
  private async recordOrder(): Promise<Stored> {
    const before = await this.ctx.storage.get<Stored>('state');
    if (!before) throw new Error('no saga to record');
    if (before.recorded) return before;
    // Its batch is a span of the request that placed the order (place() runs inside it).
    const placedBy = parentOf(before.order.traceparent);
    await new OrderRecords(placedBy ? tracedD1(this.env.DB, this.telemetry().tracer, placedBy) : this.env.DB).record(before.order, before.saga);
    const current = (await this.ctx.storage.get<Stored>('state')) ?? before;
    const recorded = { ...current, recorded: true };
    await this.ctx.storage.put('state', recorded);
    kickOutbox(this.env, this.ctx, this.log());
    return recorded;
  }

  /**
   * Test only (SAGA_CRASH_PERCENT): for the chosen orders, once, the object dies right after the
   * charge call returned and before its outcome is stored, as an eviction or a crash would. The
   * saga must then charge again under the same key and be answered with the first charge.
   */
  private async maybeCrash(stored: Stored, step: string): Promise<void> {
    const percent = sagaConfig(this.env).SAGA_CRASH_PERCENT;
    if (step !== 'charge' || percent <= 0 || crashBucket(stored.order.orderId) >= percent) return;
    if (await this.ctx.storage.get('crashed')) return;
    await this.ctx.storage.put('crashed', true);
    this.log().warn('test crash: restarting the saga mid-step', { orderId: stored.order.orderId, step });
    this.ctx.abort('test crash mid-step (SAGA_CRASH_PERCENT)');
  }
}

/**
 * Sagas stored by builds before tokenization carry the card number (PlacedOrder.card): kept only
 * while their charge may still be attempted, then dropped, whatever path the saga took. A saga
 * stored now never has one.
 */
function withoutSpentCard(stored: Stored): Stored {
  if (stored.order.card === undefined) return stored;
  const charge = stored.saga.steps.find((step) => step.name === 'charge');
  const chargeDone = charge !== undefined && ['succeeded', 'failed', 'skipped'].includes(charge.status);
  if (stored.saga.status === 'PENDING' && !chargeDone) return stored;
  const { card: _spent, ...order } = stored.order;
  return { ...stored, order };
}
