import { describe, expect, it } from 'vitest';
import { count, get, openAccount, post, readAccount, storedEvents } from './support';

describe('ledger accounts', () => {
  it('opens an account: 201 with its id and version 1, readable with its owner and balance', async () => {
    const response = await post('/ledger/accounts', { owner: 'Ada', currency: 'EUR', initialDepositCents: 1500 });
    expect(response.status).toBe(201);
    const { accountId, version } = (await response.json()) as { accountId: string; version: number };
    expect(version).toBe(1);
    expect(response.headers.get('etag')).toBe('"1"');
    expect(await readAccount(accountId)).toEqual({ accountId, owner: 'Ada', balanceCents: 1500, currency: 'EUR', status: 'open', version: 1 });
  });

  it('deposits and withdraws: 200 with the balance and version after each', async () => {
    const id = await openAccount(100);
    const deposit = await post(`/ledger/accounts/${id}/deposits`, { amountCents: 250 });
    expect(deposit.status).toBe(200);
    expect(await deposit.json()).toEqual({ accountId: id, balanceCents: 350, version: 2 });
    const withdrawal = await post(`/ledger/accounts/${id}/withdrawals`, { amountCents: 50 });
    expect(await withdrawal.json()).toEqual({ accountId: id, balanceCents: 300, version: 3 });
  });

  it('refuses a withdrawal past the balance with 422 insufficient-funds, writing nothing', async () => {
    const id = await openAccount(100);
    const response = await post(`/ledger/accounts/${id}/withdrawals`, { amountCents: 101 });
    expect(response.status).toBe(422);
    expect(((await response.json()) as { type: string }).type).toBe('/problems/insufficient-funds');
    expect(await storedEvents(id)).toHaveLength(1);
  });

  it('freezes an account (200): withdrawals are then 422 account-frozen, deposits still land, freezing again adds no event', async () => {
    const id = await openAccount(100);
    const frozen = await post(`/ledger/accounts/${id}/freeze`, {});
    expect(frozen.status).toBe(200);
    expect(((await frozen.json()) as { status: string }).status).toBe('frozen');
    const withdrawal = await post(`/ledger/accounts/${id}/withdrawals`, { amountCents: 1 });
    expect(withdrawal.status).toBe(422);
    expect(((await withdrawal.json()) as { type: string }).type).toBe('/problems/account-frozen');
    expect((await post(`/ledger/accounts/${id}/deposits`, { amountCents: 5 })).status).toBe(200);
    expect((await post(`/ledger/accounts/${id}/freeze`, {})).status).toBe(200);
    expect((await storedEvents(id)).map((e) => e.type)).toEqual(['AccountOpened', 'AccountFrozen', 'MoneyDeposited']);
  });

  it('answers 404 for an account that does not exist, for reads and commands alike', async () => {
    const missing = `acc_${crypto.randomUUID()}`;
    expect((await get(`/ledger/accounts/${missing}`)).status).toBe(404);
    expect((await post(`/ledger/accounts/${missing}/deposits`, { amountCents: 1 })).status).toBe(404);
    expect(await count('events', 'stream_id = ?', missing)).toBe(0);
  });

  it('commits every event with its outbox row (topic ledger-events) in the same batch', async () => {
    const id = await openAccount(10);
    await post(`/ledger/accounts/${id}/deposits`, { amountCents: 5 });
    const { env } = await import('cloudflare:workers');
    const { results } = await env.DB.prepare("SELECT id, type, destination FROM outbox WHERE id LIKE ? ORDER BY id").bind(`evt_${id}_%`).all();
    expect(results).toEqual([
      { id: `evt_${id}_1`, type: 'ledger.account.opened', destination: JSON.stringify({ kind: 'topic', topic: 'ledger-events' }) },
      { id: `evt_${id}_2`, type: 'ledger.money.deposited', destination: JSON.stringify({ kind: 'topic', topic: 'ledger-events' }) },
    ]);
  });

  it('is 401 without a signed-in user', async () => {
    const { callWorker, json } = await import('../../support/call-worker');
    const { ledger } = await import('./support');
    expect((await callWorker(ledger, '/ledger/accounts', json({ owner: 'Ada', currency: 'EUR' }))).status).toBe(401);
  });
});
