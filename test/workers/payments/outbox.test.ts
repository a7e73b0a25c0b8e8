import { env } from 'cloudflare:workers';
import { drizzle } from 'drizzle-orm/d1';
import { beforeEach, describe, expect, it } from 'vitest';
import { paymentEvent } from '../../../workers/payments/payment-events';
import { PaymentRepository } from '../../../workers/payments/payment-repository';
import { createCharge, DECLINED_CARD, newKey, outboxEvents, post, resetPayments, rowCount, type ChargeBody, type RefundBody } from './support';

beforeEach(async () => {
  await resetPayments();
});

const TOPIC = { kind: 'topic', topic: 'payment-events' };

describe('payment events are committed with the payment (transactional outbox)', () => {
  it('a charge writes payment.charged to the payment-events topic, as a CloudEvent', async () => {
    const charge = await createCharge({ orderId: 'ord_1', amountCents: 2_599, currency: 'EUR' });
    const [row, ...more] = await outboxEvents();
    expect(more).toEqual([]);
    expect(row).toEqual({
      id: `evt_${charge.id}`,
      type: 'payment.charged',
      destination: TOPIC,
      event: {
        specversion: '1.0',
        id: `evt_${charge.id}`,
        source: 'stratus/payments',
        type: 'payment.charged',
        subject: charge.id,
        time: expect.any(String),
        datacontenttype: 'application/json',
        data: { paymentId: charge.id, orderId: 'ord_1', amountCents: 2_599, currency: 'EUR' },
        traceparent: expect.stringMatching(/^00-[0-9a-f]{32}-[0-9a-f]{16}-0[01]$/),
      },
    });
  });

  it('a declined charge writes payment.declined with its code', async () => {
    const charge = await createCharge({ orderId: 'ord_1', amountCents: 500, card: DECLINED_CARD });
    const [row] = await outboxEvents();
    expect(row?.type).toBe('payment.declined');
    expect(row?.event.data).toEqual({ paymentId: charge.id, orderId: 'ord_1', amountCents: 500, currency: 'USD', declineCode: 'card_declined' });
  });

  it('a refund writes payment.refunded naming its charge', async () => {
    const charge = await createCharge({ orderId: 'ord_1', amountCents: 1_000 });
    const refund = (await (await post('/payments/refunds', { chargeId: charge.id, amountCents: 400 })).json()) as RefundBody;
    const rows = await outboxEvents();
    expect(rows.map((r) => r.type)).toEqual(['payment.charged', 'payment.refunded']);
    expect(rows[1]?.event).toMatchObject({
      subject: refund.id,
      data: { paymentId: refund.id, chargeId: charge.id, orderId: 'ord_1', amountCents: 400, currency: 'USD' },
    });
  });

  it('a replayed charge or refund writes no second event', async () => {
    const chargeKey = newKey();
    const body = { orderId: 'ord_1', amountCents: 1_000, currency: 'USD' };
    const charge = (await (await post('/payments/charges', body, chargeKey)).json()) as ChargeBody;
    await post('/payments/charges', body, chargeKey);
    const refundKey = newKey();
    await Promise.all(Array.from({ length: 5 }, () => post('/payments/refunds', { chargeId: charge.id }, refundKey)));
    expect((await outboxEvents()).map((r) => r.type)).toEqual(['payment.charged', 'payment.refunded']);
  });

  it('a refused write leaves no event: key reused (422), over-refund (409), voided key (409)', async () => {
    const key = newKey();
    const charge = (await (await post('/payments/charges', { orderId: 'ord_1', amountCents: 1_000, currency: 'USD' }, key)).json()) as ChargeBody;
    expect((await post('/payments/charges', { orderId: 'ord_1', amountCents: 2_000, currency: 'USD' }, key)).status).toBe(422);
    expect((await post('/payments/refunds', { chargeId: charge.id, amountCents: 1_001 })).status).toBe(409);
    await post('/payments/refunds', { orderId: 'ord_2', chargeIdempotencyKey: 'ord_2:charge' });
    expect((await post('/payments/charges', { orderId: 'ord_2', amountCents: 1_000, currency: 'USD' }, 'ord_2:charge')).status).toBe(409);
    expect((await outboxEvents()).map((r) => r.type)).toEqual(['payment.charged']);
  });

  it('concurrent refunds past the charge: one event per refund that committed, none for the refused', async () => {
    const charge = await createCharge({ orderId: 'ord_1', amountCents: 3_000 });
    const responses = await Promise.all(Array.from({ length: 8 }, () => post('/payments/refunds', { chargeId: charge.id, amountCents: 1_000 })));
    expect(responses.filter((r) => r.status === 201)).toHaveLength(3);
    const refunded = (await outboxEvents()).filter((r) => r.type === 'payment.refunded');
    expect(refunded).toHaveLength(3);
    expect(await rowCount("kind = 'refund'")).toBe(3);
  });

  it('a CHECK violation in the payment row rolls its event back with it', async () => {
    const repository = new PaymentRepository(drizzle(env.DB));
    const row = {
      id: 'pay_bad',
      kind: 'charge' as const,
      orderId: 'ord_1',
      amountCents: 100,
      currency: 'usd', // the currency CHECK wants three capitals
      status: 'succeeded' as const,
      cardLast4: '4242',
      idempotencyKey: 'k-bad',
      requestFingerprint: 'f',
    };
    await expect(repository.insertCharge(row, paymentEvent(row))).rejects.toThrow(/CHECK constraint failed: payments_currency_iso/);
    expect(await rowCount()).toBe(0);
    expect(await outboxEvents()).toEqual([]);
    // The key's claim went with it: the key is free for a valid charge.
    expect(await env.DB.prepare('SELECT count(*) AS n FROM charge_keys').first('n')).toBe(0);
  });

  it('kicks the outbox relay after a commit: the row is left pending when QStash is not configured', async () => {
    await createCharge({ orderId: 'ord_1', amountCents: 1_000 });
    const pending = await env.DB.prepare('SELECT sent_at, attempts FROM outbox').first<{ sent_at: number | null; attempts: number }>();
    expect(pending).toEqual({ sent_at: null, attempts: 0 });
    const status = await env.OUTBOX.get(env.OUTBOX.idFromName('outbox')).status();
    expect(status.pending).toBe(1);
  });
});
