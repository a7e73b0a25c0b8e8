import { z } from 'zod';
import { envConfig } from '../../shared/validation/env-config';

/** The live sockets' limits (order-live.ts), parsed once per env. */
export const liveConfig = envConfig(
  z.object({
    /** Sockets one user may hold open on one order at once; the next is refused (429) before the upgrade. */
    LIVE_MAX_CONNECTIONS_PER_USER: z.coerce.number().int().min(1).default(5),
    /**
     * A socket with no message either way for this long is closed (4408). A watcher says `ping`
     * to stay (answered `pong` by the runtime, without waking the object).
     */
    LIVE_IDLE_TIMEOUT_MS: z.coerce.number().int().min(1_000).default(5 * 60_000),
    /** The largest message a watcher may send (it has nothing to say but `ping`): bigger closes with 1009. */
    LIVE_MAX_MESSAGE_BYTES: z.coerce.number().int().min(4).default(1_024),
    /** How long a ticket (`POST /orders/:id/live/ticket`) may wait to be used, once. */
    LIVE_TICKET_TTL_MS: z.coerce.number().int().min(1_000).default(30_000),
  }),
  'orders',
);
