import { z } from 'zod';
import { outboxHeartbeat } from '../../shared/adapters/cloudflare/outbox-relay';
import { INBOX_RETENTION, runRetention, type RetentionRule } from '../../shared/adapters/cloudflare/retention';
import { createLogger, isLogLevel } from '../../shared/observability/logger';
import { envConfig } from '../../shared/validation/env-config';
import type { NotificationsBindings } from './env';

const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * How long notifications keeps what grows with traffic (README "Retention"), parsed once per env.
 * - An inbox row must outlive every redelivery of its message: QStash's longest retry schedule is
 *   about 30 h (5 retries, default backoff), longer on paid plans with more retries; 7 days covers
 *   every plan's default with room. (The notification itself is a second guard: its event id is
 *   UNIQUE for as long as the notification is kept.)
 * - A notification and its mails are the user's feed: kept 180 days, then pruned with their mails.
 */
export const notificationsRetentionConfig = envConfig(
  z.object({
    INBOX_RETENTION_MS: z.coerce.number().int().min(60_000).default(7 * DAY_MS),
    NOTIFICATION_RETENTION_MS: z.coerce.number().int().min(60_000).default(180 * DAY_MS),
  }),
  'notifications',
);

export const OLD_NOTIFICATIONS: RetentionRule = {
  name: 'notifications',
  table: 'notifications',
  column: 'created_at',
  format: 'iso',
  children: [{ table: 'mails', column: 'notification_id', references: 'id' }],
};

/** The notifications cron: the outbox heartbeat, and one bounded retention batch per rule per tick. */
export function notificationsScheduled(controller: ScheduledController, env: NotificationsBindings, ctx: ExecutionContext): void {
  outboxHeartbeat(controller, env, ctx);
  const log = createLogger({ service: 'notifications', component: 'cron' }, { level: isLogLevel(env.LOG_LEVEL) ? env.LOG_LEVEL : 'info' });
  const config = notificationsRetentionConfig(env);
  ctx.waitUntil(
    runRetention(
      env.DB,
      [
        { rule: INBOX_RETENTION, keepMs: config.INBOX_RETENTION_MS },
        { rule: OLD_NOTIFICATIONS, keepMs: config.NOTIFICATION_RETENTION_MS },
      ],
      controller.scheduledTime,
      log,
    ),
  );
}
