import { z } from 'zod';
import { INBOX_RETENTION, runRetention, type RetentionRule } from '../../shared/adapters/cloudflare/retention';
import { createLogger, isLogLevel } from '../../shared/observability/logger';
import { envConfig } from '../../shared/validation/env-config';
import type { CatalogBindings } from './env';

const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * How long the catalog keeps what grows with traffic (README "Retention"), parsed once per env.
 * - An inbox row must outlive every redelivery of its message: QStash's longest retry schedule is
 *   about 30 h (5 retries, default backoff) and longer on paid plans with more retries; 7 days
 *   covers every plan's default with room.
 * - A settled reservation (committed, released, refused, or a release's tombstone) answers its
 *   saga's retries: those stop at the saga's deadline (60 s) or, past the pivot, when the saga
 *   ends or an operator resolves it (STUCK sagas are surfaced within minutes); 30 days is far
 *   past any of them. A `reserved` row holds stock and is never pruned.
 */
export const catalogRetentionConfig = envConfig(
  z.object({
    INBOX_RETENTION_MS: z.coerce.number().int().min(60_000).default(7 * DAY_MS),
    RESERVATION_RETENTION_MS: z.coerce.number().int().min(60_000).default(30 * DAY_MS),
  }),
  'catalog',
);

/** Settled reservations and their items (the items reference the reservation, so they go first). */
export const SETTLED_RESERVATIONS: RetentionRule = {
  name: 'settled reservations',
  table: 'reservations',
  column: 'updated_at',
  format: 'iso',
  where: "status <> 'reserved'",
  children: [{ table: 'reservation_items', column: 'reservation_id', references: 'id' }],
};

/**
 * The catalog's cron (workers/catalog/wrangler.toml `[triggers]`): one bounded retention batch per
 * rule per tick. The canary runs the same code on the same D1 with no cron of its own, so the
 * tables are pruned once.
 */
export function catalogScheduled(controller: ScheduledController, env: CatalogBindings, ctx: ExecutionContext): void {
  const log = createLogger({ service: 'catalog', component: 'cron' }, { level: isLogLevel(env.LOG_LEVEL) ? env.LOG_LEVEL : 'info' });
  const config = catalogRetentionConfig(env);
  ctx.waitUntil(
    runRetention(
      env.DB,
      [
        { rule: INBOX_RETENTION, keepMs: config.INBOX_RETENTION_MS },
        { rule: SETTLED_RESERVATIONS, keepMs: config.RESERVATION_RETENTION_MS },
      ],
      controller.scheduledTime,
      log,
    ),
  );
}
