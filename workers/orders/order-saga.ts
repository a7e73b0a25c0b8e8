import { DurableObject } from 'cloudflare:workers';
import { kickOutbox } from '../../shared/adapters/cloudflare/outbox-relay';
import { createLogger, isLogLevel, type Logger } from '../../shared/observability/logger';
import { beginStep, isTerminal, nextAction, settleStep, startSaga, type SagaState } from '../../shared/saga/saga';
import type { OrdersBindings } from './env';
import { orderSagaPlan, sagaConfig } from './order-saga-config';
import { OrderRecords } from './order-records';
import type { PlacedOrder } from './placed-order';
import { performStep } from './saga-steps';

interface Stored {
  order: PlacedOrder;
  saga: SagaState;
  /** Whether the order row and `order.placed` are in D1 yet. */
  recorded: boolean;
}

export type PlaceResult =
  | { kind: 'created' | 'existing'; orderId: string; status: SagaState['status'] }
  /** The same idempotency key with a different request. */
  | { kind: 'conflict'; orderId: string };

/** Steps one wake runs at most before handing over to a fresh alarm (a bound, not a rhythm). */
const MAX_STEPS_PER_WAKE = 16;

/**
 * One order's saga (DESIGN.md decision 5), a thin shell around shared/saga/saga.ts: it loads the
 * state, asks the core what to do, persists the attempt BEFORE calling the participant and the
 * outcome AFTER, and sleeps on an alarm between attempts. Storage is the log: an eviction or a
 * crash at any point resumes from it, and the participants' idempotency keys make a repeated
 * attempt harmless. A Durable Object because a saga needs exactly one driver and a durable timer,
 * which is what an object with alarms is.
 */
export class OrderSaga extends DurableObject<OrdersBindings> {
  private log(): Logger {
    const level = this.env.LOG_LEVEL;
    return createLogger({ service: 'orders', component: 'order-saga' }, { level: isLogLevel(level) ? level : 'info' });
  }

  /** Starts the saga for a new order, or answers with the one this key already started. */
  async place(order: PlacedOrder): Promise<PlaceResult> {
    const stored = await this.ctx.storage.get<Stored>('state');
    if (stored) {
      if (stored.order.fingerprint !== order.fingerprint) return { kind: 'conflict', orderId: stored.order.orderId };
      return { kind: 'existing', orderId: stored.order.orderId, status: stored.saga.status };
    }
    const now = Date.now();
    const state: Stored = { order, saga: startSaga(orderSagaPlan(this.env), order.orderId, now), recorded: false };
    await this.ctx.storage.put('state', state);
    // Runs the saga from a fresh invocation; if recording below fails, it records first.
    await this.ctx.storage.setAlarm(now);
    await this.recordOrder(state);
    return { kind: 'created', orderId: order.orderId, status: state.saga.status };
  }

  /** The order and its saga as they stand (no card number). */
  async view(): Promise<{ order: Omit<PlacedOrder, 'card'>; saga: SagaState } | null> {
    const stored = await this.ctx.storage.get<Stored>('state');
    if (!stored) return null;
    const { card: _card, ...order } = stored.order;
    return { order, saga: stored.saga };
  }

  override async alarm(): Promise<void> {
    let stored = await this.ctx.storage.get<Stored>('state');
    if (!stored) return;
    if (!stored.recorded) stored = await this.recordOrder(stored);
    const plan = orderSagaPlan(this.env);
    const records = new OrderRecords(this.env.DB);
    for (let i = 0; i < MAX_STEPS_PER_WAKE; i++) {
      const { state: saga, action } = nextAction(plan, stored.saga, Date.now());
      if (saga !== stored.saga) stored = await this.save({ ...stored, saga }, records);
      if (action.kind === 'done') {
        await this.ctx.storage.deleteAlarm();
        return;
      }
      if (action.kind === 'wait') {
        await this.ctx.storage.setAlarm(action.until);
        return;
      }
      // Before the call: the attempt is on record, and the alarm is a watchdog at its lease's
      // end, so a crash during the call wakes the saga to run the step again.
      stored = await this.save({ ...stored, saga: beginStep(plan, stored.saga, Date.now()) }, records);
      await this.ctx.storage.setAlarm(stored.saga.notBefore);
      const step = action.step.name;
      const outcome = await performStep(this.env, stored.order, stored.saga, step);
      await this.maybeCrash(stored, step);
      const settled = settleStep(plan, stored.saga, outcome, Date.now(), Math.random);
      const order = step === 'charge' && outcome.kind !== 'transient' ? { ...stored.order, card: undefined } : stored.order;
      if (outcome.kind !== 'ok') this.log().warn('saga step failed', { orderId: order.orderId, step, outcome: outcome.kind, error: outcome.error });
      stored = await this.save({ ...stored, order, saga: settled }, records);
      if (isTerminal(settled.status)) {
        this.log().info('saga ended', { orderId: order.orderId, status: settled.status, reason: settled.reason });
        // The final step wrote the order event: publish it now rather than at the relay's next alarm.
        kickOutbox(this.env, this.ctx, this.log());
      }
    }
    await this.ctx.storage.setAlarm(Date.now());
  }

  /** Storage first (the authority), then the D1 mirror (best effort: the next save repeats it). */
  private async save(stored: Stored, records: OrderRecords): Promise<Stored> {
    await this.ctx.storage.put('state', stored);
    if (stored.recorded) {
      try {
        await records.mirror(stored.saga);
      } catch (error) {
        this.log().warn('order mirror not written; the next step writes it', { orderId: stored.order.orderId, error });
      }
    }
    return stored;
  }

  private async recordOrder(stored: Stored): Promise<Stored> {
    await new OrderRecords(this.env.DB).record(stored.order, stored.saga);
    const recorded = { ...stored, recorded: true };
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
    if (step !== 'charge' || percent <= 0 || bucketOf(stored.order.orderId) >= percent) return;
    if (await this.ctx.storage.get('crashed')) return;
    await this.ctx.storage.put('crashed', true);
    this.log().warn('test crash: restarting the saga mid-step', { orderId: stored.order.orderId, step });
    this.ctx.abort('test crash mid-step (SAGA_CRASH_PERCENT)');
  }
}

/** A stable 0..99 bucket of an id (FNV-1a), so the same orders crash on every run. */
function bucketOf(id: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < id.length; i++) hash = Math.imul(hash ^ id.charCodeAt(i), 0x01000193) >>> 0;
  return hash % 100;
}
