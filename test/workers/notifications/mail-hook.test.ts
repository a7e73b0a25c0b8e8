import { createExecutionContext, createScheduledController, waitOnExecutionContext } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { drizzle } from 'drizzle-orm/d1';
import { afterEach, describe, expect, it } from 'vitest';
import notificationsWorker from '../../../workers/notifications/index';
import { MAIL_HOLD_MS, releaseHeldMails } from '../../../workers/notifications/mail-release';
import { all, clearChaos, deliver, get, asAdmin, mailRequested, mailRequestsFor, mailsOfOrder, newOrderId, orderCompleted, paymentEvent, setChaos, type MailDbRow } from './support';

/** Delivers an order.completed and returns its two queued mails (receipt, review request). */
async function queuedMails(orderId = newOrderId()): Promise<MailDbRow[]> {
  const response = await deliver('notifications', orderCompleted(orderId));
  if (response.status !== 200) throw new Error(`order.completed delivery failed: ${response.status} ${await response.text()}`);
  return mailsOfOrder(orderId);
}

const mailRow = async (id: string) => (await all<MailDbRow & { created_at: string }>('SELECT * FROM mails WHERE id = ?', id))[0];

afterEach(async () => {
  await clearChaos();
});

describe('POST /hooks/mail: the simulated send', () => {
  it('marks the mail sent, with its send time and the delivery that did it', async () => {
    const [receipt, review] = await queuedMails();
    const response = await deliver('mail', mailRequested(receipt!.id));
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ status: 'processed' });
    const sent = await mailRow(receipt!.id);
    expect(sent).toMatchObject({ status: 'sent', attempts: 1 });
    expect(new Date(sent!.sent_at!).toISOString()).toBe(sent!.sent_at);
    // Only the mail named.
    expect(await mailRow(review!.id)).toMatchObject({ status: 'queued', attempts: 0, sent_at: null });
  });

  it('counts the deliveries it took (Upstash-Retried + 1)', async () => {
    const [receipt] = await queuedMails();
    expect((await deliver('mail', mailRequested(receipt!.id), { retried: 2 })).status).toBe(200);
    expect(await mailRow(receipt!.id)).toMatchObject({ status: 'sent', attempts: 3 });
  });

  it('a redelivery of the same message is a 200 no-op', async () => {
    const [receipt] = await queuedMails();
    const messageId = `msg_${crypto.randomUUID()}`;
    const request = mailRequested(receipt!.id);
    await deliver('mail', request, { messageId });
    const first = await mailRow(receipt!.id);
    const again = await deliver('mail', request, { messageId, retried: 1 });
    expect(again.status).toBe(200);
    expect(await again.json()).toMatchObject({ status: 'duplicate' });
    expect(await mailRow(receipt!.id)).toEqual(first);
  });

  it('a second request for a mail already sent changes nothing (the UPDATE is conditional)', async () => {
    const [receipt] = await queuedMails();
    await deliver('mail', mailRequested(receipt!.id));
    const first = await mailRow(receipt!.id);
    // Another event for the same mail: the inbox does not know it, the conditional UPDATE does.
    const again = await deliver('mail', mailRequested(receipt!.id), { retried: 4 });
    expect(again.status).toBe(200);
    expect(await mailRow(receipt!.id)).toEqual(first);
  });

});

describe('payment receipts always have a recipient, whichever event comes first', () => {
  it('payment.charged naming its customer: the receipt is addressed and queued at once', async () => {
    const orderId = newOrderId();
    await deliver('notifications', paymentEvent('payment.charged', orderId, 'u-5'));
    const [receipt] = await mailsOfOrder(orderId);
    expect(receipt).toMatchObject({ template: 'payment-receipt', status: 'queued', recipient: 'u-5' });
    expect(await mailRequestsFor([receipt!.id])).toHaveLength(1);
    await deliver('mail', mailRequested(receipt!.id));
    expect(await mailRow(receipt!.id)).toMatchObject({ status: 'sent', recipient: 'u-5' });
  });

  it('payment.charged before order.completed, no customer named: held, never sent to no one, then sent to the order’s user', async () => {
    const orderId = newOrderId();
    await deliver('notifications', paymentEvent('payment.charged', orderId));
    const [receipt] = await mailsOfOrder(orderId);
    expect(receipt).toMatchObject({ status: 'held', recipient: null });
    // No send request while held; a stray one (say, published before an upgrade) sends nothing.
    expect(await mailRequestsFor([receipt!.id])).toHaveLength(0);
    expect((await deliver('mail', mailRequested(receipt!.id))).status).toBe(200);
    expect(await mailRow(receipt!.id)).toMatchObject({ status: 'held', recipient: null, sent_at: null });

    // The order event names the user: the held receipt is addressed and gets its send request.
    await deliver('notifications', orderCompleted(orderId, 'u-7'));
    expect(await mailRow(receipt!.id)).toMatchObject({ status: 'queued', recipient: 'u-7' });
    const [request] = await mailRequestsFor([receipt!.id]);
    expect(request?.destination).toMatchObject({ kind: 'queue', queue: 'mail-transactional' });
    await deliver('mail', request!.event);
    expect(await mailRow(receipt!.id)).toMatchObject({ status: 'sent', recipient: 'u-7' });
  });

  it('order.completed before payment.charged, no customer named: the receipt is addressed at once', async () => {
    const orderId = newOrderId();
    await deliver('notifications', orderCompleted(orderId, 'u-8'));
    await deliver('notifications', paymentEvent('payment.charged', orderId));
    const receipt = (await mailsOfOrder(orderId)).find((mail) => mail.template === 'payment-receipt');
    expect(receipt).toMatchObject({ status: 'queued', recipient: 'u-8' });
    const [request] = await mailRequestsFor([receipt!.id]);
    await deliver('mail', request!.event);
    expect(await mailRow(receipt!.id)).toMatchObject({ status: 'sent', recipient: 'u-8' });
  });

  it('a held mail whose user never becomes known is given up as undeliverable after the hold, by the sweep', async () => {
    const orderId = newOrderId();
    await deliver('notifications', paymentEvent('payment.refunded', orderId));
    const [mail] = await mailsOfOrder(orderId);
    const hooksBaseUrl = env.HOOKS_BASE_URL ?? '';
    const madeAt = Date.parse((await mailRow(mail!.id))!.created_at);
    // Within the hold: still held.
    await releaseHeldMails(drizzle(env.DB), { orderId, hooksBaseUrl, now: madeAt + MAIL_HOLD_MS - 1 });
    expect(await mailRow(mail!.id)).toMatchObject({ status: 'held' });
    // Past it: undeliverable, for good (an order event afterwards does not send it).
    expect(await releaseHeldMails(drizzle(env.DB), { orderId, hooksBaseUrl, now: madeAt + MAIL_HOLD_MS })).toEqual({ released: 0, undeliverable: 1 });
    await deliver('notifications', orderCompleted(orderId, 'u-9'));
    expect(await mailRow(mail!.id)).toMatchObject({ status: 'undeliverable', recipient: null, sent_at: null });
    expect(await mailRequestsFor([mail!.id])).toHaveLength(0);
  });

  it('the scheduled sweep releases a held mail whose user became known (a release that failed after its commit)', async () => {
    const orderId = newOrderId();
    await deliver('notifications', paymentEvent('payment.charged', orderId));
    const [receipt] = await mailsOfOrder(orderId);
    // The order's user becomes known without the delivery's own release running.
    await env.DB.prepare("INSERT INTO notifications (id, event_id, kind, order_id, user_id) VALUES (?, ?, 'order.completed', ?, 'u-10')")
      .bind(`ntf_${crypto.randomUUID()}`, crypto.randomUUID(), orderId)
      .run();
    expect(await mailRow(receipt!.id)).toMatchObject({ status: 'held' });
    const controller = createScheduledController({ scheduledTime: Date.now(), cron: '* * * * *' });
    const ctx = createExecutionContext();
    await notificationsWorker.scheduled(controller, env, ctx);
    await waitOnExecutionContext(ctx);
    expect(await mailRow(receipt!.id)).toMatchObject({ status: 'queued', recipient: 'u-10' });
    expect(await mailRequestsFor([receipt!.id])).toHaveLength(1);
  });
});

describe('POST /hooks/mail under chaos', () => {
  it('answers 5xx so QStash retries, marking nothing sent; the retry then sends it once', async () => {
    const [receipt] = await queuedMails();
    expect((await setChaos({ failureRate: 1, status: 500 })).status).toBe(200);
    const messageId = `msg_${crypto.randomUUID()}`;
    const request = mailRequested(receipt!.id);

    const failed = await deliver('mail', request, { messageId });
    expect(failed.status).toBe(500);
    expect(await mailRow(receipt!.id)).toMatchObject({ status: 'queued', attempts: 0, sent_at: null });

    await clearChaos();
    const retried = await deliver('mail', request, { messageId, retried: 1 });
    expect(retried.status).toBe(200);
    expect(await mailRow(receipt!.id)).toMatchObject({ status: 'sent', attempts: 2 });
  });

  it('turns a chaos 4xx into 503 on a delivery (a 4xx would read as a bad message), but not elsewhere', async () => {
    const [receipt] = await queuedMails();
    await setChaos({ failureRate: 1, status: 409 });
    const delivery = await deliver('mail', mailRequested(receipt!.id));
    expect(delivery.status).toBe(503);
    expect(await mailRow(receipt!.id)).toMatchObject({ status: 'queued' });
    expect((await get('/notifications/stats', asAdmin)).status).toBe(409);
  });
});
