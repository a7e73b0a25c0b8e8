import { beforeAll, describe, expect, it } from 'vitest';
import gateway from '../../workers/gateway/index';
import { bearerFor } from '../support/access-token';
import { callWorker, json } from '../support/call-worker';

// A signed-in customer (made in beforeAll) for /api/ledger, an admin for its top balances; the
// operator (ADMIN_TOKEN) for /_ops.
let carol: { authorization: string };
let admin: { authorization: string };
const operator = { authorization: 'Bearer test-admin-token' };

beforeAll(async () => {
  carol = await bearerFor('usr_ledger_projections_e2e', 'customer');
  admin = await bearerFor('usr_ledger_projections_admin', 'admin');
});

interface Item {
  type: string;
  amountCents: number;
  balanceAfterCents: number;
  version: number;
  at: string;
}

const post = (path: string, body: unknown) => callWorker(gateway, path, json(body, carol));
const getJson = async <T>(path: string, as = carol): Promise<T> => {
  const response = await callWorker(gateway, path, { headers: as });
  expect(response.status).toBe(200);
  return response.json() as Promise<T>;
};

/**
 * The read side is eventually consistent: the ledger catches its projections up in its own
 * waitUntil, which the gateway's answer does not wait for. Polls until the history reaches `version`.
 */
async function historyAt(accountId: string, version: number): Promise<Item[]> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const { items } = await getJson<{ items: Item[] }>(`/api/ledger/accounts/${accountId}/transactions`);
    if (items.at(-1)?.version === version) return items;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`the history of ${accountId} never reached version ${version}`);
}

describe('gateway → ledger read side', () => {
  it('moves money, reads the history and top, rebuilds both projections through /_ops and gets the same answers', async () => {
    const opened = await Promise.all(
      [50_000_000_001, 50_000_000_000].map(async (initialDepositCents) => {
        const response = await post('/api/ledger/accounts', { owner: 'Carol', currency: 'EUR', initialDepositCents });
        expect(response.status).toBe(201);
        return ((await response.json()) as { accountId: string }).accountId;
      }),
    );
    const [rich, richer] = opened as [string, string];
    expect((await post(`/api/ledger/accounts/${rich}/withdrawals`, { amountCents: 1 })).status).toBe(200);
    expect((await post(`/api/ledger/accounts/${richer}/deposits`, { amountCents: 5 })).status).toBe(200);

    const history = await historyAt(rich, 2);
    expect(history.map(({ at, ...item }) => item)).toEqual([
      { type: 'AccountOpened', amountCents: 50_000_000_001, balanceAfterCents: 50_000_000_001, version: 1 },
      { type: 'MoneyWithdrawn', amountCents: 1, balanceAfterCents: 50_000_000_000, version: 2 },
    ]);
    await historyAt(richer, 2);
    const top = await getJson<{ items: { accountId: string; balanceCents: number }[] }>('/api/ledger/top?limit=2', admin);
    expect((await callWorker(gateway, '/api/ledger/top', { headers: carol })).status).toBe(403);
    expect(top.items.map((item) => [item.accountId, item.balanceCents])).toEqual([
      [richer, 50_000_000_005],
      [rich, 50_000_000_000],
    ]);

    for (const name of ['balances', 'transactions']) {
      const response = await callWorker(gateway, `/_ops/projections/${name}/rebuild`, { method: 'POST', headers: operator });
      // Done in its first slice (a few events): 200 with the result.
      expect(response.status).toBe(200);
      expect(await response.json()).toMatchObject({ name, status: 'done', position: expect.any(Number), rows: expect.any(Number), slices: 1 });
      const state = (await (await callWorker(gateway, `/_ops/projections/${name}`, { headers: operator })).json()) as { position: number; head: number; rebuild: { status: string } };
      expect(state.rebuild.status).toBe('done');
      expect(state.position).toBeLessThanOrEqual(state.head);
    }
    expect(await getJson(`/api/ledger/accounts/${rich}/transactions`)).toEqual({ items: history, nextCursor: null });
    expect(await getJson('/api/ledger/top?limit=2', admin)).toEqual(top);
    expect((await callWorker(gateway, '/_ops/projections/top/rebuild', { method: 'POST', headers: operator })).status).toBe(404);
  });
});
