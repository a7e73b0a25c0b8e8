import { beforeEach, describe, expect, it } from 'vitest';
import { asCustomer, createCharge, DECLINED_CARD, newKey, post, refundedCents, rowCount, type ChargeBody, type Problem, type RefundBody, resetPayments } from './support';

const refund = (body: unknown, key?: string | null, headers?: Record<string, string>) => post('/payments/refunds', body, key, headers);

let charge: ChargeBody;

beforeEach(async () => {
  await resetPayments();
  charge = await createCharge({ orderId: 'ord_1', amountCents: 10_000, currency: 'USD' });
});

const problemOf = async (response: Response) => {
  expect(response.headers.get('content-type')).toBe('application/problem+json');
  return (await response.json()) as Problem;
};

describe('POST /payments/refunds', () => {
  it('refunds the whole charge by default: 201 in the API shape', async () => {
    const response = await refund({ chargeId: charge.id });
    expect(response.status).toBe(201);
    const body = (await response.json()) as RefundBody;
    expect(body).toEqual({
      id: expect.stringMatching(/^ref_[0-9a-f]{32}$/),
      kind: 'refund',
      chargeId: charge.id,
      orderId: 'ord_1',
      amountCents: 10_000,
      currency: 'USD',
      status: 'succeeded',
      createdAt: expect.any(String),
    });
    expect(new Date(body.createdAt).toISOString()).toBe(body.createdAt);
    expect(await refundedCents(charge.id)).toBe(10_000);
  });

  it('refunds in parts; the default is what is left; then nothing more', async () => {
    const part = await refund({ chargeId: charge.id, amountCents: 3_000 });
    expect(part.status).toBe(201);
    expect(((await part.json()) as RefundBody).amountCents).toBe(3_000);

    const rest = await refund({ chargeId: charge.id });
    expect(((await rest.json()) as RefundBody).amountCents).toBe(7_000);

    const more = await refund({ chargeId: charge.id, amountCents: 1 });
    expect(more.status).toBe(409);
    expect((await problemOf(more)).type).toBe('/problems/refund-exceeds-charge');
    const nothingLeft = await refund({ chargeId: charge.id });
    expect(nothingLeft.status).toBe(409);
    expect((await problemOf(nothingLeft)).detail).toMatch(/fully refunded/);
    expect(await refundedCents(charge.id)).toBe(10_000);
  });

  it('refuses more than the charge, or more than is left, writing nothing', async () => {
    expect((await refund({ chargeId: charge.id, amountCents: 10_001 })).status).toBe(409);
    expect(await rowCount("kind = 'refund'")).toBe(0);

    await refund({ chargeId: charge.id, amountCents: 6_000 });
    const over = await refund({ chargeId: charge.id, amountCents: 5_000 });
    expect(over.status).toBe(409);
    expect((await problemOf(over)).detail).toContain('4000');
    expect(await refundedCents(charge.id)).toBe(6_000);
  });

  it('refuses to refund a declined charge (409)', async () => {
    const declined = await createCharge({ orderId: 'ord_1', amountCents: 500, card: DECLINED_CARD });
    const response = await refund({ chargeId: declined.id });
    expect(response.status).toBe(409);
    expect((await problemOf(response)).type).toBe('/problems/charge-not-refundable');
    expect(await rowCount("kind = 'refund'")).toBe(0);
  });

  it('404s for an unknown charge, and for a refund id given as the charge', async () => {
    const unknown = await refund({ chargeId: 'pay_nope' });
    expect(unknown.status).toBe(404);
    await problemOf(unknown);
    const first = (await (await refund({ chargeId: charge.id, amountCents: 100 })).json()) as RefundBody;
    expect((await refund({ chargeId: first.id, amountCents: 1 })).status).toBe(404);
    expect(await rowCount("kind = 'refund'")).toBe(1);
  });
});

describe('refund idempotency', () => {
  it('answers a repeat with the first result, even once nothing is left to refund', async () => {
    const key = newKey();
    const first = await refund({ chargeId: charge.id }, key);
    const again = await refund({ chargeId: charge.id }, key);
    expect(again.status).toBe(201);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(await again.json()).toEqual(await first.json());
    expect(await rowCount("kind = 'refund'")).toBe(1);
  });

  it('refuses the same key with another body (422), including a charge key reused for a refund', async () => {
    const key = newKey();
    await refund({ chargeId: charge.id, amountCents: 100 }, key);
    const reused = await refund({ chargeId: charge.id, amountCents: 200 }, key);
    expect(reused.status).toBe(422);
    expect((await problemOf(reused)).type).toBe('/problems/idempotency-key-reused');

    const chargeKey = newKey();
    await post('/payments/charges', { orderId: 'ord_2', amountCents: 100, currency: 'USD' }, chargeKey);
    expect((await refund({ chargeId: charge.id }, chargeKey)).status).toBe(422);
    expect(await refundedCents(charge.id)).toBe(100);
  });

  it('20 concurrent identical refunds refund once, all answered alike', async () => {
    const key = newKey();
    const responses = await Promise.all(Array.from({ length: 20 }, () => refund({ chargeId: charge.id, amountCents: 2_500 }, key)));
    expect(responses.map((r) => r.status)).toEqual(Array(20).fill(201));
    const bodies = await Promise.all(responses.map((r) => r.json()));
    for (const body of bodies) expect(body).toEqual(bodies[0]);
    expect(await rowCount("kind = 'refund'")).toBe(1);
    expect(await refundedCents(charge.id)).toBe(2_500);
  });
});

describe('concurrent refunds never exceed the charge', () => {
  it('20 refunds of 1,000 against 10,000: exactly 10 succeed', async () => {
    const responses = await Promise.all(Array.from({ length: 20 }, () => refund({ chargeId: charge.id, amountCents: 1_000 })));
    expect(responses.filter((r) => r.status === 201)).toHaveLength(10);
    expect(responses.filter((r) => r.status === 409)).toHaveLength(10);
    expect(await refundedCents(charge.id)).toBe(10_000);
  });

  it('10 concurrent "refund the rest": one gets it all, the others nothing', async () => {
    await refund({ chargeId: charge.id, amountCents: 1_234 });
    const responses = await Promise.all(Array.from({ length: 10 }, () => refund({ chargeId: charge.id })));
    const succeeded = responses.filter((r) => r.status === 201);
    expect(succeeded).toHaveLength(1);
    expect(((await succeeded[0]!.json()) as RefundBody).amountCents).toBe(8_766);
    expect(await refundedCents(charge.id)).toBe(10_000);
  });
});

describe('bad refund input is a 400 problem and changes nothing', () => {
  it.each([
    ['no chargeId', { chargeId: undefined, amountCents: 100 }, 'chargeId'],
    ['amount 0', { amountCents: 0 }, 'amountCents'],
    ['a negative amount', { amountCents: -1 }, 'amountCents'],
    ['a fractional amount', { amountCents: 0.5 }, 'amountCents'],
    ['an amount as a string', { amountCents: '100' }, 'amountCents'],
    ['a huge amount', { amountCents: 1e300 }, 'amountCents'],
    ['an unknown field', { reason: 'customer asked' }, '(root)'],
  ])('%s', async (_, fields, field) => {
    const response = await refund({ chargeId: charge.id, ...fields });
    expect(response.status).toBe(400);
    expect((await problemOf(response)).errors?.map((e) => e.path)).toContain(field);
    expect(await rowCount("kind = 'refund'")).toBe(0);
  });

  it('refuses a missing Idempotency-Key', async () => {
    const response = await refund({ chargeId: charge.id }, null);
    expect(response.status).toBe(400);
    expect((await problemOf(response)).errors?.map((e) => e.path)).toEqual(['idempotency-key']);
    expect(await rowCount("kind = 'refund'")).toBe(0);
  });

  it('401 without an identity, 403 without the admin role', async () => {
    expect((await refund({ chargeId: charge.id }, newKey(), {})).status).toBe(401);
    expect((await refund({ chargeId: charge.id }, newKey(), asCustomer)).status).toBe(403);
    expect(await rowCount("kind = 'refund'")).toBe(0);
  });
});
