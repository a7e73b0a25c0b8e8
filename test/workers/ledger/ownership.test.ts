import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { projectEvents } from '../../../workers/ledger/projections/projection-runner';
import { callWorker, json } from '../../support/call-worker';
import { asAdmin, asStranger, count, get, ledger, openAccount, readAccount } from './support';

const postAs = (as: Record<string, string>, path: string, body: unknown) => callWorker(ledger, path, json(body, as));

describe('ledger account holders', () => {
  it('another customer is told the account does not exist: reads, past reads, history and every command are 404, and write nothing', async () => {
    const id = await openAccount(500);
    const before = await count('events', 'stream_id = ?', id);
    for (const path of [`/ledger/accounts/${id}`, `/ledger/accounts/${id}?asOfVersion=1`, `/ledger/accounts/${id}/transactions`]) {
      const response = await get(path, asStranger);
      expect(response.status, path).toBe(404);
      expect(((await response.json()) as { type: string }).type).toBe('/problems/account-not-found');
    }
    expect((await postAs(asStranger, `/ledger/accounts/${id}/withdrawals`, { amountCents: 100 })).status).toBe(404);
    expect((await postAs(asStranger, `/ledger/accounts/${id}/deposits`, { amountCents: 100 })).status).toBe(404);
    expect((await postAs(asStranger, `/ledger/accounts/${id}/freeze`, {})).status).toBe(404);
    // If-Match does not let a stranger learn the version either (404, not 409).
    expect((await callWorker(ledger, `/ledger/accounts/${id}/withdrawals`, json({ amountCents: 1 }, { ...asStranger, 'if-match': '"7"' }))).status).toBe(404);
    expect(await count('events', 'stream_id = ?', id)).toBe(before);
    expect((await readAccount(id)).balanceCents).toBe(500);
  });

  it('an admin may read and command any account', async () => {
    const id = await openAccount(500);
    expect((await get(`/ledger/accounts/${id}`, asAdmin)).status).toBe(200);
    expect((await get(`/ledger/accounts/${id}/transactions`, asAdmin)).status).toBe(200);
    expect((await postAs(asAdmin, `/ledger/accounts/${id}/freeze`, {})).status).toBe(200);
    expect((await readAccount(id)).status).toBe('frozen');
  });

  it('the holder is the signed-in user who opened it, recorded in the opening event (the body cannot name another)', async () => {
    const response = await postAs(asStranger, '/ledger/accounts', { owner: 'Bea', currency: 'EUR', initialDepositCents: 5 });
    const { accountId } = (await response.json()) as { accountId: string };
    const opened = await env.DB.prepare('SELECT data FROM events WHERE stream_id = ? AND version = 1').bind(accountId).first<{ data: string }>();
    expect(JSON.parse(opened!.data)).toEqual({ owner: 'Bea', currency: 'EUR', initialDepositCents: 5, userId: 'u2' });
    expect((await get(`/ledger/accounts/${accountId}`, asStranger)).status).toBe(200);
    expect((await get(`/ledger/accounts/${accountId}`)).status).toBe(404);
    // A userId in the body is not a field of the request: 400, nothing opened.
    expect((await postAs(asStranger, '/ledger/accounts', { owner: 'Bea', currency: 'EUR', userId: 'u1' })).status).toBe(400);
  });

  it('an account from before holders were recorded (no userId in its opening event) is an admin\'s only', async () => {
    const id = `acc_${crypto.randomUUID()}`;
    await env.DB.prepare("INSERT INTO events (stream_id, version, type, data, metadata, recorded_at) VALUES (?, 1, 'AccountOpened', ?, '{}', ?)")
      .bind(id, JSON.stringify({ owner: 'Old', currency: 'EUR', initialDepositCents: 9 }), Date.now())
      .run();
    await projectEvents(env.DB);
    expect((await get(`/ledger/accounts/${id}`)).status).toBe(404);
    expect((await get(`/ledger/accounts/${id}/transactions`)).status).toBe(404);
    expect(((await (await get(`/ledger/accounts/${id}`, asAdmin)).json()) as { balanceCents: number }).balanceCents).toBe(9);
  });
});
