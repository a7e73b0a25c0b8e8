import { describe, expect, it } from 'vitest';
import type { NotificationStats } from '../../../workers/notifications/notification-repository';
import type { NotificationItem } from '../../../workers/notifications/notification-schemas';
import { asAdmin, asUser, deliver, get, mailRequested, mailsOfOrder, newOrderId, orderCompleted, paymentEvent } from './support';

const list = async (orderId: string, headers: Record<string, string>) => {
  const response = await get(`/notifications?orderId=${orderId}`, headers);
  return { status: response.status, body: (await response.json()) as { items: NotificationItem[] } };
};

describe('GET /notifications?orderId=', () => {
  it("shows an admin the order's notifications, oldest first, with their mails", async () => {
    const orderId = newOrderId();
    await deliver('notifications', paymentEvent('payment.charged', orderId));
    await deliver('notifications', orderCompleted(orderId, 'u-1'));
    const [, receipt] = await mailsOfOrder(orderId);
    await deliver('mail', mailRequested(receipt!.id));

    const { status, body } = await list(orderId, asAdmin);
    expect(status).toBe(200);
    expect(body.items).toEqual([
      { id: expect.stringMatching(/^ntf_/), kind: 'payment.charged', orderId, createdAt: expect.any(String), mails: [{ priority: 'transactional', template: 'payment-receipt', status: 'queued' }] },
      {
        id: expect.stringMatching(/^ntf_/),
        kind: 'order.completed',
        orderId,
        createdAt: expect.any(String),
        mails: [
          { priority: 'transactional', template: 'order-receipt', status: 'sent' },
          { priority: 'bulk', template: 'review-request', status: 'queued' },
        ],
      },
    ]);
  });

  it("shows the order's user all of them, payment ones included", async () => {
    const orderId = newOrderId();
    await deliver('notifications', paymentEvent('payment.charged', orderId));
    await deliver('notifications', orderCompleted(orderId, 'u-2'));
    const { status, body } = await list(orderId, asUser('u-2'));
    expect(status).toBe(200);
    expect(body.items.map((item) => item.kind)).toEqual(['payment.charged', 'order.completed']);
  });

  it('shows another user nothing, the same answer as an unknown order', async () => {
    const orderId = newOrderId();
    await deliver('notifications', orderCompleted(orderId, 'u-3'));
    expect(await list(orderId, asUser('someone-else'))).toEqual({ status: 200, body: { items: [] } });
    expect(await list(newOrderId(), asAdmin)).toEqual({ status: 200, body: { items: [] } });
  });

  it('is 401 without a user', async () => {
    expect((await get(`/notifications?orderId=${newOrderId()}`)).status).toBe(401);
    expect((await get('/notifications')).status).toBe(401);
  });
});

describe('GET /notifications?limit=&cursor= (the caller\'s own)', () => {
  type Page = { items: NotificationItem[]; nextCursor: string | null };
  const page = async (query: string, headers: Record<string, string>) => (await get(`/notifications${query}`, headers)).json<Page>();

  it('lists only the caller\'s own, newest first, a page at a time until nextCursor is null', async () => {
    const user = `u-own-${crypto.randomUUID()}`;
    const orders = [newOrderId(), newOrderId(), newOrderId()];
    for (const orderId of orders) await deliver('notifications', orderCompleted(orderId, user));
    await deliver('notifications', orderCompleted(newOrderId(), 'someone-else'));

    const first = await page('?limit=2', asUser(user));
    expect(first.items.map((item) => item.orderId)).toEqual([orders[2], orders[1]]);
    expect(first.items[0]).toMatchObject({ id: expect.stringMatching(/^ntf_/), kind: 'order.completed', createdAt: expect.any(String) });
    expect(first.nextCursor).toEqual(expect.any(String));
    const second = await page(`?limit=2&cursor=${first.nextCursor}`, asUser(user));
    expect(second).toEqual({ items: [expect.objectContaining({ orderId: orders[0] })], nextCursor: null });
    // Someone with none gets an empty page.
    expect((await page('', asUser('nobody-yet'))).items).toEqual([]);
  });

  it('bounds the page (1 to 100) and refuses a cursor it did not issue, with problem+json', async () => {
    for (const query of ['?limit=0', '?limit=101', '?cursor=not-a-cursor', `?cursor=${btoa('{"x":1}')}`]) {
      const response = await get(`/notifications${query}`, asUser('u-bounds'));
      expect(response.status, query).toBe(400);
      expect(response.headers.get('content-type')).toMatch(/problem\+json/);
    }
  });
});

describe('GET /notifications/stats', () => {
  it('counts notifications by kind and mails by status and priority', async () => {
    const before = (await (await get('/notifications/stats', asAdmin)).json()) as NotificationStats;
    const orderId = newOrderId();
    await deliver('notifications', orderCompleted(orderId));
    await deliver('notifications', paymentEvent('payment.refunded', orderId));
    const [receipt] = await mailsOfOrder(orderId);
    await deliver('mail', mailRequested(receipt!.id));

    const response = await get('/notifications/stats', asAdmin);
    expect(response.status).toBe(200);
    const after = (await response.json()) as NotificationStats;
    expect(after.notifications.total - before.notifications.total).toBe(2);
    expect((after.notifications.byKind['order.completed'] ?? 0) - (before.notifications.byKind['order.completed'] ?? 0)).toBe(1);
    expect((after.notifications.byKind['payment.refunded'] ?? 0) - (before.notifications.byKind['payment.refunded'] ?? 0)).toBe(1);
    expect(after.mails.total - before.mails.total).toBe(3);
    expect(after.mails.byStatus.sent - before.mails.byStatus.sent).toBe(1);
    expect(after.mails.byStatus.queued - before.mails.byStatus.queued).toBe(2);
    expect(after.mails.byPriority.transactional.sent - before.mails.byPriority.transactional.sent).toBe(1);
    expect(after.mails.byPriority.transactional.queued - before.mails.byPriority.transactional.queued).toBe(1);
    expect(after.mails.byPriority.bulk.queued - before.mails.byPriority.bulk.queued).toBe(1);
  });

  it('is for admins only', async () => {
    expect((await get('/notifications/stats', asUser('u-1'))).status).toBe(403);
    expect((await get('/notifications/stats')).status).toBe(401);
  });
});
