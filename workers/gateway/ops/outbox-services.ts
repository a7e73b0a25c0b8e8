/**
 * The services with a transactional outbox (an OutboxRelay mounted at `/_outbox`), by their
 * binding: `/_ops/outbox` reads and retries them, and `/metrics` counts their parked rows.
 */
export const OUTBOX_SERVICES = { orders: 'ORDERS', payments: 'PAYMENTS', notifications: 'NOTIFICATIONS', ledger: 'LEDGER' } as const;
export type OutboxService = keyof typeof OUTBOX_SERVICES;
