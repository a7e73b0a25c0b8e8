import { and, asc, inArray, lt } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/d1';
import { outboxHeartbeat } from '../../shared/adapters/cloudflare/outbox-relay';
import { INBOX_RETENTION, runRetention } from '../../shared/adapters/cloudflare/retention';
import { createLogger, isLogLevel, type Logger } from '../../shared/observability/logger';
import type { OrdersBindings } from './env';
import { sagaConfig } from './order-saga-config';
import { orders } from './schema';

/** Unfinished sagas one sweep looks at most: a bounded share per tick (the oldest first). */
export const SWEEP_BATCH = 50;

/**
 * The sweep for sagas whose alarm was lost: unfinished orders (PENDING, COMPENSATING, STUCK) that
 * have not changed for SAGA_SWEEP_IDLE_MS are asked to make sure they are armed (`ensureArmed`),
 * oldest first. A healthy saga changes its row at every step, so only a stalled one is asked;
 * one waiting for an operator (parked) is left alone. Answers how many were re-armed.
 */
export async function sweepLostSagas(env: OrdersBindings, now: number, log: Logger, limit = SWEEP_BATCH): Promise<number> {
  const idleSince = new Date(now - sagaConfig(env).SAGA_SWEEP_IDLE_MS).toISOString();
  const stalled = await drizzle(env.DB)
    .select({ id: orders.id })
    .from(orders)
    .where(and(inArray(orders.status, ['PENDING', 'COMPENSATING', 'STUCK']), lt(orders.updatedAt, idleSince)))
    .orderBy(asc(orders.updatedAt))
    .limit(limit);
  let rearmed = 0;
  for (const { id } of stalled) {
    try {
      if (await env.ORDER_SAGA.get(env.ORDER_SAGA.idFromName(id)).ensureArmed()) {
        rearmed += 1;
        log.warn('saga had lost its alarm; re-armed by the sweep', { orderId: id });
      }
    } catch (error) {
      log.error('saga sweep could not reach a saga; the next tick retries', { orderId: id, error });
    }
  }
  return rearmed;
}

/**
 * The orders cron (workers/orders/wrangler.toml `[triggers]`): the outbox heartbeat, the inbox's
 * retention (one bounded batch per tick), and the sweep for sagas whose alarm was lost.
 */
export function ordersScheduled(controller: ScheduledController, env: OrdersBindings, ctx: ExecutionContext): void {
  outboxHeartbeat(controller, env, ctx);
  const log = createLogger({ service: 'orders', component: 'cron' }, { level: isLogLevel(env.LOG_LEVEL) ? env.LOG_LEVEL : 'info' });
  const config = sagaConfig(env);
  ctx.waitUntil(runRetention(env.DB, [{ rule: INBOX_RETENTION, keepMs: config.INBOX_RETENTION_MS }], controller.scheduledTime, log));
  ctx.waitUntil(sweepLostSagas(env, controller.scheduledTime, log).catch((error: unknown) => log.error('saga sweep failed; the next tick retries', { error })));
}
