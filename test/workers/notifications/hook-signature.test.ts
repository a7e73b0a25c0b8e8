import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import notificationsWorker from '../../../workers/notifications/index';
import { callWorker } from '../../support/call-worker';
import { qstashDelivery } from '../../support/qstash-signature';
import { countOf, deliver, hookUrl, newOrderId, orderCompleted } from './support';

/** Nothing an unverified delivery could have written: no notification, no inbox row. */
async function nothingRecordedFor(event: { id: string; data: { orderId: string } }) {
  expect(await countOf('notifications', 'order_id = ?', event.data.orderId)).toBe(0);
  expect(await countOf('inbox', 'event_id = ?', event.id)).toBe(0);
}

describe('a delivery must be signed by QStash for this consumer', () => {
  it('refuses an unsigned delivery with 401 problem+json, recording nothing', async () => {
    const event = orderCompleted(newOrderId());
    const response = await deliver('notifications', event, { unsigned: true });
    expect(response.status).toBe(401);
    expect(response.headers.get('content-type')).toContain('application/problem+json');
    await nothingRecordedFor(event);
  });

  it('refuses a body changed after signing', async () => {
    const event = orderCompleted(newOrderId());
    const response = await deliver('notifications', event, { signedBody: JSON.stringify({ ...event, data: { ...event.data, userId: 'someone-else' } }) });
    expect(response.status).toBe(401);
    await nothingRecordedFor(event);
  });

  it('refuses a signature made with another key', async () => {
    const event = orderCompleted(newOrderId());
    const response = await deliver('notifications', event, { signingKey: 'sig_not_ours' });
    expect(response.status).toBe(401);
    await nothingRecordedFor(event);
  });

  it("refuses a delivery signed for another consumer's URL", async () => {
    const event = orderCompleted(newOrderId());
    const response = await deliver('notifications', event, { signedUrl: hookUrl('mail') });
    expect(response.status).toBe(401);
    await nothingRecordedFor(event);
  });

  it('accepts the next signing key (a rotation in progress)', async () => {
    const orderId = newOrderId();
    const response = await deliver('notifications', orderCompleted(orderId), { signingKey: env.QSTASH_NEXT_SIGNING_KEY });
    expect(response.status).toBe(200);
    expect(await countOf('notifications', 'order_id = ?', orderId)).toBe(1);
  });

  it('refuses /hooks/mail unsigned too', async () => {
    const response = await deliver('mail', { specversion: '1.0', id: crypto.randomUUID(), source: 'x', type: 'mail.requested', data: { mailId: 'mail_x' } }, { unsigned: true });
    expect(response.status).toBe(401);
  });

  it('refuses a signed delivery that does not come through the gateway (no service token)', async () => {
    const event = orderCompleted(newOrderId());
    const init = await qstashDelivery(env.QSTASH_CURRENT_SIGNING_KEY ?? '', hookUrl('notifications'), JSON.stringify(event));
    const response = await callWorker(notificationsWorker, '/hooks/notifications', init);
    expect(response.status).toBe(401);
    await nothingRecordedFor(event);
  });
});
