import { z } from 'zod';
import { envConfig } from '../../shared/validation/env-config';

/** The ledger's settings, parsed once per env (a bad value is a clear error naming the variable). */
export const ledgerConfig = envConfig(
  z.object({
    /** Snapshot an account every this many events; 0 turns snapshots off (loads replay the whole stream). */
    LEDGER_SNAPSHOT_EVERY: z.coerce.number().int().min(0).default(50),
    /**
     * Pages of events (200 each) a projection rebuild runs per invocation: about two D1 calls a
     * page, so the default 50 (10,000 events, ~100 calls) stays far inside the paid plan's 1,000
     * calls per invocation, and a slice takes seconds, not minutes. On the free plan (50 calls)
     * set it to 20 or fewer.
     */
    LEDGER_REBUILD_PAGES_PER_SLICE: z.coerce.number().int().min(1).max(450).default(50),
    /** How long a command's Idempotency-Key is kept (command_keys): a retry within it is answered, not re-run. */
    LEDGER_IDEMPOTENCY_RETENTION_MS: z.coerce.number().int().min(60_000).default(86_400_000),
  }),
  'ledger',
);
