import { env } from 'cloudflare:workers';
import { beforeEach, describe, expect, it } from 'vitest';
import { asCustomer, DECLINED_CARD, newKey, post, rowCount, type ChargeBody, type Problem, resetPayments } from './support';

const charge = (body: unknown, key?: string | null, headers?: Record<string, string>) => post('/payments/charges', body, key, headers);
const valid = { orderId: 'ord_1', amountCents: 2599, currency: 'EUR' };

beforeEach(async () => {
  await resetPayments();
});

describe('POST /payments/charges', () => {
  it('charges a card: 201 in the API shape, storing only the last four digits', async () => {
    const response = await charge({ ...valid, card: '5555555555554444' });
    expect(response.status).toBe(201);
    expect(response.headers.get('idempotent-replayed')).toBeNull();
    const body = (await response.json()) as ChargeBody;
    expect(body).toEqual({ id: expect.stringMatching(/^pay_[0-9a-f]{32}$/), kind: 'charge', orderId: 'ord_1', amountCents: 2599, currency: 'EUR', status: 'succeeded', createdAt: expect.any(String) });
    expect(new Date(body.createdAt).toISOString()).toBe(body.createdAt);

    const row = await env.DB.prepare('SELECT * FROM payments WHERE id = ?').bind(body.id).first<Record<string, unknown>>();
    expect(row?.card_last4).toBe('4444');
    expect(JSON.stringify(row)).not.toContain('5555555555554444');
  });

  it('uses the approved test card when none is given', async () => {
    const body = (await (await charge(valid)).json()) as ChargeBody;
    expect(body.status).toBe('succeeded');
    expect(await rowCount("card_last4 = '4242'")).toBe(1);
  });

  it('records a decline of the declined test card, with its code', async () => {
    const response = await charge({ ...valid, card: DECLINED_CARD });
    expect(response.status).toBe(201);
    expect(await response.json()).toMatchObject({ kind: 'charge', status: 'declined', declineCode: 'card_declined', amountCents: 2599 });
    expect(await rowCount("status = 'declined' AND card_last4 = '0002'")).toBe(1);
  });
});

describe('idempotency', () => {
  it('answers a repeat with the first result, marked replayed, and writes nothing new', async () => {
    const key = newKey();
    const first = await charge(valid, key);
    const again = await charge(valid, key);
    expect(first.status).toBe(201);
    expect(again.status).toBe(201);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(await again.json()).toEqual(await first.json());
    expect(await rowCount()).toBe(1);
  });

  it('recognises the same request however its JSON is spelled (key order, defaults written out)', async () => {
    const key = newKey();
    const first = (await (await charge(valid, key)).json()) as ChargeBody;
    const again = await charge({ currency: 'EUR', card: '4242424242424242', amountCents: 2599, orderId: 'ord_1' }, key);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(((await again.json()) as ChargeBody).id).toBe(first.id);
  });

  it('replays a decline as a decline: the card is not tried again', async () => {
    const key = newKey();
    const first = await (await charge({ ...valid, card: DECLINED_CARD }, key)).json();
    const again = await charge({ ...valid, card: DECLINED_CARD }, key);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(await again.json()).toEqual(first);
    expect(await rowCount()).toBe(1);
  });

  it.each([
    ['another amount', { ...valid, amountCents: 2600 }],
    ['another order', { ...valid, orderId: 'ord_2' }],
    ['another card', { ...valid, card: '5555555555554444' }],
  ])('refuses the same key with %s: 422, the first charge unchanged', async (_, other) => {
    const key = newKey();
    const first = (await (await charge(valid, key)).json()) as ChargeBody;
    const reused = await charge(other, key);
    expect(reused.status).toBe(422);
    expect(reused.headers.get('content-type')).toBe('application/problem+json');
    expect(((await reused.json()) as Problem).type).toBe('/problems/idempotency-key-reused');
    expect(await rowCount()).toBe(1);
    const row = await env.DB.prepare('SELECT id, amount_cents, order_id FROM payments').first();
    expect(row).toEqual({ id: first.id, amount_cents: 2599, order_id: 'ord_1' });
  });

  it('20 concurrent identical requests charge once and all get the same answer', async () => {
    const key = newKey();
    const responses = await Promise.all(Array.from({ length: 20 }, () => charge(valid, key)));
    expect(responses.map((r) => r.status)).toEqual(Array(20).fill(201));
    const bodies = await Promise.all(responses.map((r) => r.json()));
    for (const body of bodies) expect(body).toEqual(bodies[0]);
    // Exactly one request wrote; every other one was answered with its row.
    expect(responses.filter((r) => r.headers.get('idempotent-replayed') === null)).toHaveLength(1);
    expect(await rowCount()).toBe(1);
  });

  it('concurrent different requests with one key: one wins, the rest are refused', async () => {
    const key = newKey();
    const responses = await Promise.all(Array.from({ length: 10 }, (_, i) => charge({ ...valid, amountCents: 100 + i }, key)));
    expect(responses.filter((r) => r.status === 201)).toHaveLength(1);
    expect(responses.filter((r) => r.status === 422)).toHaveLength(9);
    expect(await rowCount()).toBe(1);
  });
});

describe('bad input is a 400 problem and changes nothing', () => {
  it.each([
    ['amount 0', { ...valid, amountCents: 0 }, 'amountCents'],
    ['a negative amount', { ...valid, amountCents: -100 }, 'amountCents'],
    ['a fractional amount', { ...valid, amountCents: 25.99 }, 'amountCents'],
    ['an amount as a string', { ...valid, amountCents: '2599' }, 'amountCents'],
    ['an amount over the maximum', { ...valid, amountCents: 100_000_001 }, 'amountCents'],
    ['a huge amount', { ...valid, amountCents: 1e300 }, 'amountCents'],
    ['an unsafe integer amount', { ...valid, amountCents: 2 ** 53 + 2 }, 'amountCents'],
    ['no amount', { orderId: 'ord_1', currency: 'EUR' }, 'amountCents'],
    ['a lower-case currency', { ...valid, currency: 'eur' }, 'currency'],
    ['a two-letter currency', { ...valid, currency: 'EU' }, 'currency'],
    ['an empty orderId', { ...valid, orderId: '' }, 'orderId'],
    ['an orderId over 128 characters', { ...valid, orderId: 'o'.repeat(129) }, 'orderId'],
    ['a card with letters', { ...valid, card: '4242abcd42424242' }, 'card'],
    ['a card of 11 digits', { ...valid, card: '42424242424' }, 'card'],
    ['a card of 20 digits', { ...valid, card: '42424242424242424242' }, 'card'],
    ['an unknown field', { ...valid, tip: 100 }, '(root)'],
  ])('%s', async (_, body, field) => {
    const response = await charge(body);
    expect(response.status).toBe(400);
    expect(response.headers.get('content-type')).toBe('application/problem+json');
    const problem = (await response.json()) as Problem;
    expect(problem.errors?.map((e) => e.path)).toContain(field);
    expect(await rowCount()).toBe(0);
  });

  it.each([
    ['missing', null],
    ['empty', ''],
    ['with a space', 'my key'],
    ['with a tab', 'my\tkey'],
    ['256 characters long', 'k'.repeat(256)],
  ])('refuses an Idempotency-Key %s', async (_, key) => {
    const response = await charge(valid, key);
    expect(response.status).toBe(400);
    expect(((await response.json()) as Problem).errors?.map((e) => e.path)).toEqual(['idempotency-key']);
    expect(await rowCount()).toBe(0);
  });

  it('accepts a key of 255 visible ASCII characters', async () => {
    expect((await charge(valid, `${'!~'.repeat(127)}k`)).status).toBe(201);
  });
});

describe('who may charge', () => {
  it('401 without an identity, 403 without the admin role; nothing written', async () => {
    expect((await charge(valid, newKey(), {})).status).toBe(401);
    const forbidden = await charge(valid, newKey(), asCustomer);
    expect(forbidden.status).toBe(403);
    expect(forbidden.headers.get('content-type')).toBe('application/problem+json');
    expect(await rowCount()).toBe(0);
  });
});
