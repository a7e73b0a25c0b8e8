import { env } from 'cloudflare:workers';
import { beforeAll, describe, expect, it } from 'vitest';
import gateway from '../../workers/gateway/index';
import { bearerFor } from '../support/access-token';
import { callWorker, json } from '../support/call-worker';

// A signed-in customer's access token, as the users service would issue it (made in beforeAll).
let alice: { authorization: string };

beforeAll(async () => {
  alice = await bearerFor('usr_ledger_e2e', 'customer');
});

interface AccountBody {
  accountId: string;
  owner: string;
  balanceCents: number;
  currency: string;
  status: string;
  version: number;
}

const post = (path: string, body: unknown, headers: Record<string, string> = {}) => callWorker(gateway, path, json(body, { ...alice, ...headers }));
const get = (path: string) => callWorker(gateway, path, { headers: alice });

async function open(owner: string, initialDepositCents: number): Promise<string> {
  const response = await post('/api/ledger/accounts', { owner, currency: 'EUR', initialDepositCents });
  expect(response.status).toBe(201);
  const body = (await response.json()) as { accountId: string; version: number };
  expect(body.version).toBe(1);
  // The link works from outside: the gateway's path, not the ledger's own.
  expect(response.headers.get('location')).toBe(`/api/ledger/accounts/${body.accountId}`);
  return body.accountId;
}

async function move(accountId: string, kind: 'deposits' | 'withdrawals', amountCents: number) {
  const response = await post(`/api/ledger/accounts/${accountId}/${kind}`, { amountCents });
  expect(response.status).toBe(200);
  return (await response.json()) as { accountId: string; balanceCents: number; version: number };
}

const read = async (path: string) => {
  const response = await get(path);
  expect(response.status).toBe(200);
  return (await response.json()) as AccountBody;
};

describe('gateway → ledger (/api/ledger)', () => {
  it('opens two accounts, moves money between them, and reads a balance as it was three versions ago', async () => {
    const from = await open('Alice', 10_000);
    const to = await open('Bob', 0);
    // Three transfers of 1,000, 2,500 and 500: out of one, into the other.
    for (const amountCents of [1_000, 2_500, 500]) {
      await move(from, 'withdrawals', amountCents);
      await move(to, 'deposits', amountCents);
    }
    expect(await read(`/api/ledger/accounts/${from}`)).toEqual({ accountId: from, owner: 'Alice', balanceCents: 6_000, currency: 'EUR', status: 'open', version: 4 });
    expect(await read(`/api/ledger/accounts/${to}`)).toMatchObject({ balanceCents: 4_000, version: 4 });

    // Three versions ago: just opened, before any transfer.
    expect(await read(`/api/ledger/accounts/${from}?asOfVersion=1`)).toEqual({ accountId: from, owner: 'Alice', balanceCents: 10_000, currency: 'EUR', status: 'open', version: 1 });
    expect(await read(`/api/ledger/accounts/${to}?asOfVersion=3`)).toMatchObject({ balanceCents: 3_500, version: 3 });
    // As of a time: before the account existed it is 404, after its last event it is the account now.
    const before = await get(`/api/ledger/accounts/${from}?asOf=2000-01-01T00:00:00Z`);
    expect(before.status).toBe(404);
    expect(((await before.json()) as { instance: string }).instance).toBe(`/api/ledger/accounts/${from}`);
    expect(await read(`/api/ledger/accounts/${from}?asOf=2999-01-01T00:00:00Z`)).toMatchObject({ balanceCents: 6_000, version: 4 });
    // Past the stream's end, and a bad query.
    expect((await get(`/api/ledger/accounts/${from}?asOfVersion=5`)).status).toBe(404);
    expect((await get(`/api/ledger/accounts/${from}?asOfVersion=-1`)).status).toBe(400);
    expect((await get(`/api/ledger/accounts/${from}?asOfVersion=1&asOf=2026-01-01T00:00:00Z`)).status).toBe(400);

    // Every event is in the ledger's own database, in order.
    const { results } = await env.TEST_LEDGER_DB.prepare('SELECT version, type FROM events WHERE stream_id = ? ORDER BY version').bind(from).all();
    expect(results).toEqual([
      { version: 1, type: 'AccountOpened' },
      { version: 2, type: 'MoneyWithdrawn' },
      { version: 3, type: 'MoneyWithdrawn' },
      { version: 4, type: 'MoneyWithdrawn' },
    ]);
  });

  it('passes the version through as an ETag, and a stale If-Match is 409; overdrawing is 422', async () => {
    const id = await open('Carol', 100);
    const first = await post(`/api/ledger/accounts/${id}/deposits`, { amountCents: 10 }, { 'if-match': '"1"' });
    expect(first.status).toBe(200);
    expect(first.headers.get('etag')).toBe('"2"');
    expect((await post(`/api/ledger/accounts/${id}/deposits`, { amountCents: 10 }, { 'if-match': '"1"' })).status).toBe(409);
    expect((await post(`/api/ledger/accounts/${id}/withdrawals`, { amountCents: 1_000 })).status).toBe(422);
    expect((await read(`/api/ledger/accounts/${id}`)).balanceCents).toBe(110);
  });

  it('is rate limited per user, with the RateLimit headers on every answer', async () => {
    const response = await get(`/api/ledger/accounts/acc_${crypto.randomUUID()}`);
    expect(response.status).toBe(404);
    expect(response.headers.get('ratelimit-policy')).toBeTruthy();
    expect(response.headers.get('ratelimit')).toBeTruthy();
  });

  it('is 401 without a token, and nothing is written', async () => {
    const before = await env.TEST_LEDGER_DB.prepare('SELECT count(*) AS n FROM events').first<{ n: number }>();
    const anonymous = await callWorker(gateway, '/api/ledger/accounts', json({ owner: 'Mallory', currency: 'EUR' }));
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get('www-authenticate')).toMatch(/^Bearer/);
    expect((await callWorker(gateway, `/api/ledger/accounts/acc_${crypto.randomUUID()}`)).status).toBe(401);
    const after = await env.TEST_LEDGER_DB.prepare('SELECT count(*) AS n FROM events').first<{ n: number }>();
    expect(after?.n).toBe(before?.n);
  });
});
