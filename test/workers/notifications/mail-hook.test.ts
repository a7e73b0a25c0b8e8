import { afterEach, describe, expect, it } from 'vitest';
import { all, clearChaos, deliver, get, asAdmin, mailRequested, mailsOfOrder, newOrderId, orderCompleted, paymentEvent, setChaos, type MailDbRow } from './support';

/** Delivers an order.completed and returns its two queued mails (receipt, review request). */
async function queuedMails(orderId = newOrderId()): Promise<MailDbRow[]> {
  const response = await deliver('notifications', orderCompleted(orderId));
  if (response.status !== 200) throw new Error(`order.completed delivery failed: ${response.status} ${await response.text()}`);
  return mailsOfOrder(orderId);
}

const mailRow = async (id: string) => (await all<MailDbRow>('SELECT * FROM mails WHERE id = ?', id))[0];

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

  it('addresses a payment mail to the order’s user when an order event has named them', async () => {
    const orderId = newOrderId();
    await deliver('notifications', paymentEvent('payment.charged', orderId));
    const [paymentMail] = await mailsOfOrder(orderId);
    expect(paymentMail!.recipient).toBeNull();
    await deliver('notifications', orderCompleted(orderId, 'u-7'));
    await deliver('mail', mailRequested(paymentMail!.id));
    expect(await mailRow(paymentMail!.id)).toMatchObject({ status: 'sent', recipient: 'u-7' });
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
