import { describe, expect, it } from 'vitest';
import { cloudEvent } from '../../../shared/events/cloud-event';
import {
  countOf,
  deliver,
  failNextPublishes,
  hookUrl,
  mailRequestsFor,
  mailsOfOrder,
  newOrderId,
  orderCancelled,
  orderCompleted,
  paymentEvent,
  published,
} from './support';

describe('POST /hooks/notifications: order.completed', () => {
  it('records one notification, a transactional receipt and a bulk review request, each with its send request on its queue', async () => {
    const orderId = newOrderId();
    const event = orderCompleted(orderId, 'u-42');
    const response = await deliver('notifications', event);
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ status: 'processed' });

    expect(await countOf('notifications', "order_id = ? AND kind = 'order.completed' AND user_id = 'u-42' AND event_id = ?", orderId, event.id)).toBe(1);
    const mails = await mailsOfOrder(orderId);
    expect(mails.map(({ priority, template, status, recipient }) => ({ priority, template, status, recipient }))).toEqual([
      { priority: 'transactional', template: 'order-receipt', status: 'queued', recipient: 'u-42' },
      { priority: 'bulk', template: 'review-request', status: 'queued', recipient: 'u-42' },
    ]);

    const requests = await mailRequestsFor(mails.map((mail) => mail.id));
    expect(requests).toHaveLength(2);
    const queueOf = (mailId: string) => requests.find((request) => request.event.data.mailId === mailId)?.destination;
    expect(queueOf(mails[0]!.id)).toEqual({ kind: 'queue', queue: 'mail-transactional', url: hookUrl('mail') });
    expect(queueOf(mails[1]!.id)).toEqual({ kind: 'queue', queue: 'mail-bulk', url: hookUrl('mail') });
    for (const request of requests) {
      expect(request.type).toBe('mail.requested');
      expect(request.event).toMatchObject({ specversion: '1.0', id: request.id, type: 'mail.requested', source: 'stratus/notifications', subject: request.event.data.mailId });
    }
  });

  it('publishes each send request to its queue right after the commit, deduplicated by the event id', async () => {
    const orderId = newOrderId();
    await deliver('notifications', orderCompleted(orderId));
    const requests = await mailRequestsFor((await mailsOfOrder(orderId)).map((mail) => mail.id));
    // Marked sent by the relay the delivery kicked (callWorker waits for its waitUntil work).
    expect(requests.map((request) => request.sent_at)).toEqual([expect.any(Number), expect.any(Number)]);
    const messages = (await published()).filter((message) => requests.some((request) => request.id === message.deduplicationId));
    expect(messages.map(({ kind, queue, url }) => ({ kind, queue, url })).sort((a, b) => a.queue!.localeCompare(b.queue!))).toEqual([
      { kind: 'queue', queue: 'mail-bulk', url: hookUrl('mail') },
      { kind: 'queue', queue: 'mail-transactional', url: hookUrl('mail') },
    ]);
    for (const message of messages) {
      expect(message.contentType).toBe('application/cloudevents+json');
      expect(message.body).toBe(requests.find((request) => request.id === message.deduplicationId)?.body);
    }
  });

  it('continues the event’s trace in the mail requests it causes', async () => {
    const orderId = newOrderId();
    const traceparent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    await deliver('notifications', { ...orderCompleted(orderId), traceparent });
    const requests = await mailRequestsFor((await mailsOfOrder(orderId)).map((mail) => mail.id));
    expect(requests.map((request) => request.event.traceparent)).toEqual([traceparent, traceparent]);
  });
});

describe('POST /hooks/notifications: the other events', () => {
  it('order.cancelled: one notification and one transactional mail on mail-transactional', async () => {
    const orderId = newOrderId();
    expect((await deliver('notifications', orderCancelled(orderId))).status).toBe(200);
    expect(await countOf('notifications', "order_id = ? AND kind = 'order.cancelled'", orderId)).toBe(1);
    const mails = await mailsOfOrder(orderId);
    expect(mails.map(({ priority, template }) => ({ priority, template }))).toEqual([{ priority: 'transactional', template: 'order-cancelled' }]);
    const requests = await mailRequestsFor([mails[0]!.id]);
    expect(requests.map((request) => request.destination)).toEqual([{ kind: 'queue', queue: 'mail-transactional', url: hookUrl('mail') }]);
  });

  it.each([
    ['payment.charged', 'payment-receipt'],
    ['payment.declined', 'payment-declined'],
    ['payment.refunded', 'payment-refunded'],
  ] as const)('%s: one notification and one transactional %s mail, addressed to the payment’s customer', async (type, template) => {
    const orderId = newOrderId();
    expect((await deliver('notifications', paymentEvent(type, orderId, 'u-3'))).status).toBe(200);
    expect(await countOf('notifications', "order_id = ? AND kind = ? AND user_id = 'u-3'", orderId, type)).toBe(1);
    const mails = await mailsOfOrder(orderId);
    expect(mails.map(({ priority, template, status, recipient }) => ({ priority, template, status, recipient }))).toEqual([
      { priority: 'transactional', template, status: 'queued', recipient: 'u-3' },
    ]);
    expect(await mailRequestsFor([mails[0]!.id])).toHaveLength(1);
  });

  it('a payment event naming no customer: its mail is held, with no send request, until the user is known', async () => {
    const orderId = newOrderId();
    expect((await deliver('notifications', paymentEvent('payment.declined', orderId))).status).toBe(200);
    expect(await countOf('notifications', 'order_id = ? AND user_id IS NULL', orderId)).toBe(1);
    const mails = await mailsOfOrder(orderId);
    expect(mails.map(({ template, status, recipient }) => ({ template, status, recipient }))).toEqual([{ template: 'payment-declined', status: 'held', recipient: null }]);
    expect(await mailRequestsFor([mails[0]!.id])).toHaveLength(0);
  });

  it('acknowledges an event type it does not act on (a ledger event) writing nothing, not even an inbox row', async () => {
    const event = cloudEvent({ type: 'ledger.money.deposited', source: 'stratus/ledger', data: { amountCents: 500 } });
    const response = await deliver('notifications', event);
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ status: 'ignored' });
    expect(await countOf('notifications', 'event_id = ?', event.id)).toBe(0);
    expect(await countOf('inbox', 'event_id = ?', event.id)).toBe(0);
  });

  it('refuses an event it acts on whose data is unusable (400), writing nothing', async () => {
    const event = cloudEvent({ type: 'order.completed', source: 'stratus/orders', data: { orderId: newOrderId() } });
    const response = await deliver('notifications', event);
    expect(response.status).toBe(400);
    expect(await countOf('inbox', 'event_id = ?', event.id)).toBe(0);
  });

  it('refuses a body that is not a CloudEvent (400)', async () => {
    const response = await deliver('notifications', { hello: 'world' });
    expect(response.status).toBe(400);
  });
});

describe('POST /hooks/notifications: idempotent consumer', () => {
  it('applies the same message delivered twice once; the second is acknowledged as a duplicate', async () => {
    const orderId = newOrderId();
    const event = orderCompleted(orderId);
    const messageId = `msg_${crypto.randomUUID()}`;
    expect((await deliver('notifications', event, { messageId })).status).toBe(200);
    const again = await deliver('notifications', event, { messageId, retried: 1 });
    expect(again.status).toBe(200);
    expect(await again.json()).toMatchObject({ status: 'duplicate' });
    expect(await countOf('notifications', 'order_id = ?', orderId)).toBe(1);
    const mails = await mailsOfOrder(orderId);
    expect(mails).toHaveLength(2);
    expect(await mailRequestsFor(mails.map((mail) => mail.id))).toHaveLength(2);
  });

  it('applies the same event under a new message id once (a producer re-published it)', async () => {
    const orderId = newOrderId();
    const event = orderCompleted(orderId);
    expect((await deliver('notifications', event)).status).toBe(200);
    const again = await deliver('notifications', event);
    expect(again.status).toBe(200);
    expect(await again.json()).toMatchObject({ status: 'duplicate' });
    expect(await countOf('notifications', 'order_id = ?', orderId)).toBe(1);
    expect(await mailsOfOrder(orderId)).toHaveLength(2);
  });

  it('applies concurrent duplicates once', async () => {
    const orderId = newOrderId();
    const event = orderCompleted(orderId);
    const answers = await Promise.all(Array.from({ length: 5 }, () => deliver('notifications', event)));
    expect(answers.map((answer) => answer.status)).toEqual([200, 200, 200, 200, 200]);
    expect(await countOf('notifications', 'order_id = ?', orderId)).toBe(1);
    expect(await mailsOfOrder(orderId)).toHaveLength(2);
    expect(await countOf('inbox', "consumer = 'notifications' AND event_id = ?", event.id)).toBe(1);
  });

  it('keeps the send requests when QStash is down: the delivery is still done, the rows wait for a retry', async () => {
    const orderId = newOrderId();
    await failNextPublishes(2);
    expect((await deliver('notifications', orderCompleted(orderId))).status).toBe(200);
    const rows = await mailRequestsFor((await mailsOfOrder(orderId)).map((mail) => mail.id));
    expect(rows.map(({ sent_at, attempts }) => ({ sent_at, attempts }))).toEqual([
      { sent_at: null, attempts: 1 },
      { sent_at: null, attempts: 1 },
    ]);
    expect(rows.every((row) => row.last_error !== null)).toBe(true);
  });
});
