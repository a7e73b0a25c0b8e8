import topology from '../../shared/events/topology.json';
import type { MailPriority } from './schema';

type QueueName = keyof typeof topology.queues;

/**
 * Priority by lane, not by reordering. A QStash queue is FIFO with at most `parallelism`
 * deliveries in flight and has no per-message priority, so one queue for every mail would put a
 * password-reset or an order receipt behind every review request queued before it. Instead each
 * priority has its own queue (shared/events/topology.json):
 *
 * - `mail-transactional` (parallelism 5): receipts, cancellations, payment notices. The customer
 *   is waiting for these; five in flight keeps them moving.
 * - `mail-bulk` (parallelism 1): the "review your order" request after an order completes. It can
 *   wait; one at a time levels the load on the mail provider (queue-based load levelling).
 *
 * The queues are independent: a backlog of thousands of bulk mails waits in its own FIFO with one
 * slot, and never takes one of the five transactional slots, so a transactional mail waits only
 * behind other transactional mail. Retries stay in their lane too: a failing bulk send is retried
 * on mail-bulk. (The local QStash server's queue tests, test/scripts/qstash-server.test.ts, show
 * queues with parallelism behaving this way.)
 */
export const MAIL_QUEUES = {
  transactional: 'mail-transactional',
  bulk: 'mail-bulk',
} as const satisfies Record<MailPriority, QueueName>;

export const mailQueueOf = (priority: MailPriority): QueueName => MAIL_QUEUES[priority];
