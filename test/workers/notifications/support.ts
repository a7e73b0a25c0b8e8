import { env } from 'cloudflare:workers';
import { cloudEvent, type CloudEvent } from '../../../shared/events/cloud-event';
import topology from '../../../shared/events/topology.json';
import notificationsWorker from '../../../workers/notifications/index';
import { callWorker, json } from '../../support/call-worker';
import { qstashDelivery, type DeliveryOptions } from '../../support/qstash-signature';
import { testUser, viaGateway } from '../../support/service-token';

/** The notifications worker as the gateway reaches it: every call carries a service token. */
export const notifications = viaGateway(notificationsWorker, 'notifications');

export const asAdmin = testUser('op', 'admin');
export const asOps = { ...testUser('op', 'admin'), 'x-test-scope': 'ops' };
export const asUser = (id: string) => testUser(id, 'customer');

type Consumer = 'notifications' | 'mail';

/** The URL QStash delivers a consumer's messages to, and signs them for. */
export const hookUrl = (consumer: Consumer) => `${env.HOOKS_BASE_URL}${topology.consumers[consumer]}`;

/**
 * Delivers a body to a consumer as QStash does (through the gateway: a service token without a
 * user, the raw body and the Upstash headers), signed with the current key unless told otherwise.
 */
export async function deliver(consumer: Consumer, event: unknown, options: DeliveryOptions = {}): Promise<Response> {
  const body = typeof event === 'string' ? event : JSON.stringify(event);
  const key = env.QSTASH_CURRENT_SIGNING_KEY;
  if (!key) throw new Error('QSTASH_CURRENT_SIGNING_KEY is not set for the notifications project');
  return callWorker(notifications, topology.consumers[consumer], await qstashDelivery(key, hookUrl(consumer), body, options));
}

export const get = (path: string, headers: Record<string, string> = {}) => callWorker(notifications, path, { headers });

const items = [{ productId: 'prd_1', quantity: 2, unitPriceCents: 1250 }];

export const orderCompleted = (orderId: string, userId = 'u1') =>
  cloudEvent({ type: 'order.completed', source: 'stratus/orders', subject: orderId, data: { orderId, userId, items, totalCents: 2500, currency: 'EUR' } });

export const orderCancelled = (orderId: string, userId = 'u1') =>
  cloudEvent({
    type: 'order.cancelled',
    source: 'stratus/orders',
    subject: orderId,
    data: { orderId, userId, items, totalCents: 2500, currency: 'EUR', reason: 'payment-declined' },
  });

/** A payment event; `customerId` as the payments service sends it, or none (an older event, an operator's charge). */
export const paymentEvent = (type: 'payment.charged' | 'payment.declined' | 'payment.refunded', orderId: string, customerId?: string) =>
  cloudEvent({
    type,
    source: 'stratus/payments',
    subject: `pay_${orderId}`,
    data: {
      paymentId: `pay_${orderId}`,
      orderId,
      amountCents: 2500,
      currency: 'EUR',
      ...(customerId ? { customerId } : {}),
      ...(type === 'payment.declined' ? { declineCode: 'card_declined' } : {}),
      ...(type === 'payment.refunded' ? { chargeId: `pay_${orderId}_charge` } : {}),
    },
  });

export const mailRequested = (mailId: string) => cloudEvent({ type: 'mail.requested', source: 'stratus/notifications', subject: mailId, data: { mailId } });

export interface MailDbRow {
  id: string;
  notification_id: string;
  priority: 'transactional' | 'bulk';
  template: string;
  recipient: string | null;
  status: 'held' | 'queued' | 'sent' | 'undeliverable';
  attempts: number;
  sent_at: string | null;
}

export interface OutboxDbRow {
  id: string;
  destination: string;
  type: string;
  body: string;
  attempts: number;
  sent_at: number | null;
  last_error: string | null;
}

export const all = async <Row>(query: string, ...params: unknown[]): Promise<Row[]> =>
  (await env.DB.prepare(query).bind(...params).all<Row>()).results;

export const countOf = async (table: string, where = '1 = 1', ...params: unknown[]): Promise<number> =>
  (await env.DB.prepare(`SELECT count(*) AS n FROM ${table} WHERE ${where}`).bind(...params).first<{ n: number }>())?.n ?? 0;

/** An order's mails, oldest first. */
export const mailsOfOrder = (orderId: string) =>
  all<MailDbRow>(
    'SELECT mails.* FROM mails JOIN notifications ON notifications.id = mails.notification_id WHERE notifications.order_id = ? ORDER BY mails.rowid',
    orderId,
  );

/** The outbox messages requesting these mails, with their destination and event parsed. */
export async function mailRequestsFor(mailIds: string[]) {
  const rows = await all<OutboxDbRow>('SELECT * FROM outbox ORDER BY rowid');
  return rows
    .map((row) => ({ ...row, destination: JSON.parse(row.destination) as unknown, event: JSON.parse(row.body) as CloudEvent<{ mailId: string }> }))
    .filter((row) => mailIds.includes(row.event.data.mailId));
}

/** A message the outbox relay published, as the QStash stand-in recorded it. */
export interface PublishedMessage {
  kind: 'queue' | 'topic' | 'url';
  queue?: string;
  url?: string;
  body: string;
  deduplicationId: string | null;
  contentType: string | null;
}

/** What the relay published so far (test/support/recording-qstash-worker.mjs). */
export const published = async (): Promise<PublishedMessage[]> => (await env.RECORDING_QSTASH.fetch('http://recording-qstash/__published')).json();

/** The stand-in answers the next `count` publishes with 500, as a broker outage would. */
export const failNextPublishes = (count: number) => env.RECORDING_QSTASH.fetch('http://recording-qstash/__fail', json({ count }));

export const setChaos = (settings: Record<string, unknown>) =>
  callWorker(notifications, '/_chaos', { method: 'PUT', headers: { 'content-type': 'application/json', ...asOps }, body: JSON.stringify(settings) });

export const clearChaos = () => callWorker(notifications, '/_chaos', { method: 'DELETE', headers: asOps });

export const newOrderId = () => `ord_${crypto.randomUUID().replace(/-/g, '').slice(0, 12)}`;

export { json };
