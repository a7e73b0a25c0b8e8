import { z } from 'zod';
import type { SagaPlan } from '../../shared/saga/saga';
import { envConfig } from '../../shared/validation/env-config';
import type { OrdersBindings } from './env';

const ms = (fallback: number) => z.coerce.number().int().min(0).default(fallback);

/** The saga's settings, parsed once per env (a bad value is a clear error naming the variable). */
export const sagaConfig = envConfig(
  z.object({
    SAGA_DEADLINE_MS: ms(60_000),
    SAGA_RETRY_BASE_MS: ms(200),
    SAGA_RETRY_MAX_MS: ms(10_000),
    SAGA_CALL_TIMEOUT_MS: ms(5_000),
    SAGA_CRASH_PERCENT: z.coerce.number().min(0).max(100).default(0),
    /**
     * Failed attempts of a step that must succeed (past the pivot, or a compensation) after which
     * the saga is STUCK: at the default backoff (10 s at most) 20 attempts is about 3 minutes.
     */
    SAGA_STUCK_AFTER_ATTEMPTS: z.coerce.number().int().min(1).default(20),
    /**
     * How long an ended saga keeps its Durable Object storage before deleting it (the D1 order
     * row stays, and answers a retried POST): only a debugging aid once the saga has ended.
     */
    SAGA_RETENTION_MS: z.coerce.number().int().min(0).default(7 * 24 * 60 * 60 * 1000),
    /** How long an unfinished saga may go without a change before the cron's sweep checks its alarm. */
    SAGA_SWEEP_IDLE_MS: ms(5 * 60_000),
    /** How long a consumer's inbox row is kept: past QStash's longest redelivery (~30 h for 5 retries). */
    INBOX_RETENTION_MS: z.coerce.number().int().min(60_000).default(7 * 24 * 60 * 60 * 1000),
  }),
  'orders',
);

/**
 * An order's saga: reserve stock → charge the card → confirm (commit the reservation, order
 * COMPLETED). Confirm is the pivot: once the card is charged and the stock is ours, the order
 * only goes forward. Undoing: refund, release, then cancel (order CANCELLED).
 */
export function orderSagaPlan(env: OrdersBindings): SagaPlan {
  const config = sagaConfig(env);
  return {
    steps: [{ name: 'reserve', compensation: 'release' }, { name: 'charge', compensation: 'refund' }, { name: 'confirm' }],
    pivot: 2,
    finalCompensation: 'cancel',
    deadlineMs: config.SAGA_DEADLINE_MS,
    retry: { baseDelayMs: config.SAGA_RETRY_BASE_MS, maxDelayMs: config.SAGA_RETRY_MAX_MS },
    // A call is cut at its timeout; past that plus a margin, an attempt with no outcome is dead.
    attemptLeaseMs: config.SAGA_CALL_TIMEOUT_MS + 5_000,
    stuckAfterAttempts: config.SAGA_STUCK_AFTER_ATTEMPTS,
  };
}
