import { env } from 'cloudflare:workers';
import { beforeEach, describe, expect, it } from 'vitest';
import type { PaymentMethod } from '../../../workers/payments/payment-schemas';
import { callWorker, json } from '../../support/call-worker';
import { asCustomer, DECLINED_CARD, newKey, payments, post, postAsSaga, resetPayments, type ChargeBody, type Problem } from './support';

const APPROVED_CARD = '4242424242424242';
const tokenize = (card: string, key: string | null = newKey()) => postAsSaga('/payments/payment-methods', { card }, key ?? '');

/** Every row of every table, as one string: what the database file holds. */
async function everyRow(): Promise<string> {
  const { results: tables } = await env.DB.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '_cf_%'").all<{ name: string }>();
  const rows = await Promise.all(tables.map(async ({ name }) => [name, (await env.DB.prepare(`SELECT * FROM "${name}"`).all()).results]));
  return JSON.stringify(rows);
}

beforeEach(async () => {
  await resetPayments();
});

describe('POST /payments/payment-methods', () => {
  it('answers a token, the last four digits and a keyed fingerprint, and stores no number', async () => {
    const response = await tokenize(APPROVED_CARD);
    expect(response.status).toBe(201);
    const body = await response.json<PaymentMethod>();
    expect(body).toEqual({ id: expect.stringMatching(/^pm_[0-9a-f]{32}$/), card: { last4: '4242', fingerprint: expect.stringMatching(/^[0-9a-f]{64}$/) }, createdAt: expect.any(String) });
    // Not a plain hash of the number (reversible by brute force): keyed by CARD_FINGERPRINT_KEY.
    const plain = Array.from(new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(APPROVED_CARD))), (b) => b.toString(16).padStart(2, '0')).join('');
    expect(body.card.fingerprint).not.toBe(plain);
    expect(await everyRow()).not.toContain(APPROVED_CARD);
  });

  it('gives the same card the same fingerprint under another key, and a new token', async () => {
    const one = await (await tokenize(APPROVED_CARD)).json<PaymentMethod>();
    const two = await (await tokenize(APPROVED_CARD)).json<PaymentMethod>();
    expect(two.card.fingerprint).toBe(one.card.fingerprint);
    expect(two.id).not.toBe(one.id);
    const other = await (await tokenize(DECLINED_CARD)).json<PaymentMethod>();
    expect(other.card.fingerprint).not.toBe(one.card.fingerprint);
  });

  it('is idempotent: the same key and card is the first token, replayed; another card with it is 422', async () => {
    const key = newKey();
    const first = await (await tokenize(APPROVED_CARD, key)).json<PaymentMethod>();
    const again = await tokenize(APPROVED_CARD, key);
    expect(again.status).toBe(201);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(await again.json()).toEqual(first);
    const reused = await tokenize('4242000000004242', key);
    expect(reused.status).toBe(422);
    expect((await reused.json<Problem>()).type).toBe('/problems/idempotency-key-reused');
    const concurrent = await Promise.all(Array.from({ length: 10 }, () => tokenize(DECLINED_CARD, `${key}-c`)));
    const ids = new Set(await Promise.all(concurrent.map(async (r) => (await r.json<PaymentMethod>()).id)));
    expect(ids.size).toBe(1);
    expect((await env.DB.prepare('SELECT count(*) AS n FROM payment_methods').first<{ n: number }>())?.n).toBe(2);
  });

  it('refuses a customer (403), bad input (400) and, without CARD_FINGERPRINT_KEY, everything (503); nothing stored', async () => {
    expect((await post('/payments/payment-methods', { card: APPROVED_CARD }, newKey(), asCustomer)).status).toBe(403);
    const bad = await tokenize('4242-4242');
    expect(bad.status).toBe(400);
    expect((await bad.json<Problem>()).errors?.map((e) => e.path)).toEqual(['card']);
    const unconfigured = await callWorker(payments, '/payments/payment-methods', json({ card: APPROVED_CARD }, { 'x-test-user-id': 'op', 'x-test-user-roles': 'admin', 'idempotency-key': newKey() }), { CARD_FINGERPRINT_KEY: '' });
    expect(unconfigured.status).toBe(503);
    expect((await env.DB.prepare('SELECT count(*) AS n FROM payment_methods').first<{ n: number }>())?.n).toBe(0);
  });
});

describe('a charge by token', () => {
  const charge = (body: Record<string, unknown>, key = newKey()) => postAsSaga('/payments/charges', { orderId: 'ord_t', amountCents: 1_000, currency: 'USD', ...body }, key);

  it('is approved or declined as the processor decided when the card was tokenized', async () => {
    const approved = await (await tokenize(APPROVED_CARD)).json<PaymentMethod>();
    const declined = await (await tokenize(DECLINED_CARD)).json<PaymentMethod>();
    expect(await (await charge({ paymentMethod: approved.id })).json<ChargeBody>()).toMatchObject({ status: 'succeeded' });
    expect(await (await charge({ paymentMethod: declined.id })).json<ChargeBody>()).toMatchObject({ status: 'declined', declineCode: 'card_declined' });
    const rows = await env.DB.prepare("SELECT payment_method_id, card_last4 FROM payments WHERE kind = 'charge' ORDER BY rowid").all();
    expect(rows.results).toEqual([
      { payment_method_id: approved.id, card_last4: '4242' },
      { payment_method_id: declined.id, card_last4: '0002' },
    ]);
  });

  it('a charge naming a card number tokenizes it on the way in: the row holds its token, never the number', async () => {
    const body = await (await charge({ card: DECLINED_CARD })).json<ChargeBody>();
    expect(body.status).toBe('declined');
    const row = await env.DB.prepare('SELECT payment_method_id FROM payments WHERE id = ?').bind(body.id).first<{ payment_method_id: string }>();
    expect(row?.payment_method_id).toMatch(/^pm_/);
    expect(await everyRow()).not.toContain(DECLINED_CARD);
  });

  it('an unknown token is 422 and writes nothing; a card and a token together are 400', async () => {
    const unknown = await charge({ paymentMethod: `pm_${'0'.repeat(32)}` });
    expect(unknown.status).toBe(422);
    expect((await unknown.json<Problem>()).type).toBe('/problems/unknown-payment-method');
    const both = await charge({ card: APPROVED_CARD, paymentMethod: `pm_${'0'.repeat(32)}` });
    expect(both.status).toBe(400);
    expect((await both.json<Problem>()).errors?.map((e) => e.path)).toEqual(['paymentMethod']);
    expect((await env.DB.prepare('SELECT count(*) AS n FROM payments').first<{ n: number }>())?.n).toBe(0);
  });
});
