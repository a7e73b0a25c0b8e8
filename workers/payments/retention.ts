import { z } from 'zod';
import { outboxHeartbeat } from '../../shared/adapters/cloudflare/outbox-relay';
import { runRetention, type RetentionRule } from '../../shared/adapters/cloudflare/retention';
import { createLogger, isLogLevel } from '../../shared/observability/logger';
import { envConfig } from '../../shared/validation/env-config';
import type { PaymentsBindings } from './env';

const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * How long payments keeps its charge and void keys (README "Retention"), parsed once per env. A
 * key answers a retried charge with the first charge, and a void refuses a charge still on its
 * way after the saga refunded by key. Both kinds of retry come from an order saga: before its
 * pivot they stop at its deadline (60 s), and a saga past it is STUCK and in front of an
 * operator within minutes. 30 days is far past any of them.
 */
export const paymentsRetentionConfig = envConfig(
  z.object({ CHARGE_KEY_RETENTION_MS: z.coerce.number().int().min(60_000).default(30 * DAY_MS) }),
  'payments',
);

export const CHARGE_KEYS: RetentionRule = { name: 'charge and void keys', table: 'charge_keys', column: 'created_at', format: 'iso' };

/** The payments cron: the outbox heartbeat, and one bounded retention batch per tick. */
export function paymentsScheduled(controller: ScheduledController, env: PaymentsBindings, ctx: ExecutionContext): void {
  outboxHeartbeat(controller, env, ctx);
  const log = createLogger({ service: 'payments', component: 'cron' }, { level: isLogLevel(env.LOG_LEVEL) ? env.LOG_LEVEL : 'info' });
  const config = paymentsRetentionConfig(env);
  ctx.waitUntil(runRetention(env.DB, [{ rule: CHARGE_KEYS, keepMs: config.CHARGE_KEY_RETENTION_MS }], controller.scheduledTime, log));
}
