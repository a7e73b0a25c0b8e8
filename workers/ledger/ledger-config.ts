import { z } from 'zod';
import { envConfig } from '../../shared/validation/env-config';

/** The ledger's settings, parsed once per env (a bad value is a clear error naming the variable). */
export const ledgerConfig = envConfig(
  z.object({
    /** Snapshot an account every this many events; 0 turns snapshots off (loads replay the whole stream). */
    LEDGER_SNAPSHOT_EVERY: z.coerce.number().int().min(0).default(50),
  }),
  'ledger',
);
