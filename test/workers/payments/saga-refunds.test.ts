import { env } from 'cloudflare:workers';
import { beforeEach, describe, expect, it } from 'vitest';
import type { ChargeVoided, NothingRefunded } from '../../../workers/payments/payment-schemas';
import { DECLINED_CARD, outboxEvents, post, postAsSaga, refundedCents, resetPayments, rowCount, type ChargeBody, type Problem, type RefundBody } from './support';

beforeEach(async () => {
  await resetPayments();
});

// The keys the order saga sends for order ord_1 (workers/orders/saga-steps.ts).
const CHARGE_KEY = 'ord_1:charge';
const REFUND_KEY = 'ord_1:refund';

const sagaCharge = (body: Record<string, unknown> = {}, key = CHARGE_KEY) =>
  postAsSaga('/payments/charges', { orderId: 'ord_1', amountCents: 5_000, currency: 'USD', ...body }, key);
const sagaRefund = (body: Record<string, unknown> = {}, key = REFUND_KEY) =>
  postAsSaga('/payments/refunds', { orderId: 'ord_1', chargeIdempotencyKey: CHARGE_KEY, ...body }, key);

const problemOf = async (response: Response) => {
  expect(response.headers.get('content-type')).toBe('application/problem+json');
  return (await response.json()) as Problem;
};

describe('the order saga charges with its own service token', () => {
  it('charges (201) as stratus-orders, with no end user', async () => {
    const response = await sagaCharge();
    expect(response.status).toBe(201);
    expect(await response.json()).toMatchObject({ kind: 'charge', orderId: 'ord_1', status: 'succeeded', amountCents: 5_000 });
  });
});

describe('POST /payments/refunds by charge key (the saga compensating its charge)', () => {
  it('refunds the succeeded charge made with that key, in full: 201 the refund', async () => {
    const charge = (await (await sagaCharge()).json()) as ChargeBody;
    const response = await sagaRefund();
    expect(response.status).toBe(201);
    const refund = (await response.json()) as RefundBody;
    expect(refund).toEqual({
      id: expect.stringMatching(/^ref_[0-9a-f]{32}$/),
      kind: 'refund',
      chargeId: charge.id,
      orderId: 'ord_1',
      amountCents: 5_000,
      currency: 'USD',
      status: 'succeeded',
      createdAt: expect.any(String),
    });
    expect(await refundedCents(charge.id)).toBe(5_000);
  });

  it('refunds once however often it is asked: a repeat replays the first refund', async () => {
    const charge = (await (await sagaCharge()).json()) as ChargeBody;
    const first = await sagaRefund();
    const again = await sagaRefund();
    expect(again.status).toBe(201);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(await again.json()).toEqual(await first.json());
    expect(await refundedCents(charge.id)).toBe(5_000);
  });

  it('refunds once under 20 concurrent duplicates, all answered alike', async () => {
    const charge = (await (await sagaCharge()).json()) as ChargeBody;
    const responses = await Promise.all(Array.from({ length: 20 }, () => sagaRefund()));
    expect(responses.map((r) => r.status)).toEqual(Array(20).fill(201));
    const bodies = await Promise.all(responses.map((r) => r.json()));
    for (const body of bodies) expect(body).toEqual(bodies[0]);
    expect(await rowCount("kind = 'refund'")).toBe(1);
    expect(await refundedCents(charge.id)).toBe(5_000);
  });

  it('refunds only what is left after an earlier partial refund', async () => {
    const charge = (await (await sagaCharge()).json()) as ChargeBody;
    expect((await post('/payments/refunds', { chargeId: charge.id, amountCents: 1_200 })).status).toBe(201);
    const response = await sagaRefund();
    expect(((await response.json()) as RefundBody).amountCents).toBe(3_800);
    expect(await refundedCents(charge.id)).toBe(5_000);
  });

  it('answers 200 no-refund (charge-declined) for a declined charge, refunding nothing', async () => {
    const charge = (await (await sagaCharge({ card: DECLINED_CARD })).json()) as ChargeBody;
    expect(charge.status).toBe('declined');
    for (let i = 0; i < 2; i++) {
      const response = await sagaRefund();
      expect(response.status).toBe(200);
      expect((await response.json()) satisfies NothingRefunded).toEqual({
        kind: 'no-refund',
        reason: 'charge-declined',
        orderId: 'ord_1',
        chargeIdempotencyKey: CHARGE_KEY,
        chargeId: charge.id,
      });
    }
    expect(await rowCount("kind = 'refund'")).toBe(0);
  });

  it('answers 200 no-refund (fully-refunded) when an operator already refunded it all', async () => {
    const charge = (await (await sagaCharge()).json()) as ChargeBody;
    await post('/payments/refunds', { chargeId: charge.id });
    const response = await sagaRefund();
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ kind: 'no-refund', reason: 'fully-refunded', chargeId: charge.id });
    expect(await refundedCents(charge.id)).toBe(5_000);
  });

  it('voids the key when no charge was made (200 void), so a late charge with it is refused with 409 charge-voided', async () => {
    const response = await sagaRefund();
    expect(response.status).toBe(200);
    expect((await response.json()) satisfies ChargeVoided).toEqual({ kind: 'void', orderId: 'ord_1', chargeIdempotencyKey: CHARGE_KEY });

    const late = await sagaCharge();
    expect(late.status).toBe(409);
    expect((await problemOf(late)).type).toBe('/problems/charge-voided');
    expect(await rowCount()).toBe(0);
    expect(await outboxEvents()).toEqual([]);

    // Asked again: the same void, still nothing charged.
    const again = await sagaRefund();
    expect(again.status).toBe(200);
    expect(await again.json()).toEqual({ kind: 'void', orderId: 'ord_1', chargeIdempotencyKey: CHARGE_KEY });
    expect((await sagaCharge()).status).toBe(409);
  });

  it('a void racing its charge: either the charge is refunded or it is refused; never money kept', async () => {
    for (let round = 0; round < 5; round++) {
      await resetPayments();
      const [charged, compensated] = await Promise.all([sagaCharge(), sagaRefund()]);
      const kept = (await env.DB.prepare(
        "SELECT coalesce(sum(CASE WHEN kind = 'charge' AND status = 'succeeded' THEN amount_cents WHEN kind = 'refund' THEN -amount_cents ELSE 0 END), 0) AS n FROM payments",
      ).first<{ n: number }>())!.n;
      if (charged.status === 201) {
        // The charge came first: the compensation refunded it (or, had the refund run first, voided it
        // and the charge would have been refused).
        expect(compensated.status).toBe(201);
      } else {
        expect(charged.status).toBe(409);
        expect(compensated.status).toBe(200);
      }
      expect(kept).toBe(0);
    }
  });

  it('refuses a charge key of another order (422 charge-order-mismatch)', async () => {
    await sagaCharge();
    const response = await sagaRefund({ orderId: 'ord_2' });
    expect(response.status).toBe(422);
    expect((await problemOf(response)).type).toBe('/problems/charge-order-mismatch');
    expect(await rowCount("kind = 'refund'")).toBe(0);
  });

  it('validates the by-key form field by field (400), without mixing it with the by-id form', async () => {
    const bad = await sagaRefund({ chargeIdempotencyKey: 'has space' });
    expect(bad.status).toBe(400);
    expect((await problemOf(bad)).errors?.map((e) => e.path)).toEqual(['chargeIdempotencyKey']);
    const mixed = await sagaRefund({ amountCents: 100 });
    expect(mixed.status).toBe(400);
    expect((await problemOf(mixed)).errors?.map((e) => e.path)).toContain('(root)');
  });
});
