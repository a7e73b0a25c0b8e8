import { env } from 'cloudflare:workers';
import ledgerWorker from '../../../workers/ledger/index';
import { callWorker, json } from '../../support/call-worker';
import { testUser, viaGateway } from '../../support/service-token';

/** The ledger worker as the gateway reaches it: every call carries a service token. */
export const ledger = viaGateway(ledgerWorker, 'ledger');

/** The customer tests act as by default: the holder of every account `openAccount` opens. */
export const asCustomer = testUser('u1', 'customer');
/** Another customer: none of u1's accounts are theirs. */
export const asStranger = testUser('u2', 'customer');
export const asAdmin = testUser('admin-1', 'admin');

export const post = (path: string, body: unknown, headers: Record<string, string> = {}) => callWorker(ledger, path, json(body, { ...asCustomer, ...headers }));
/** GET as u1, or as whoever `as` names. */
export const get = (path: string, as: Record<string, string> = asCustomer) => callWorker(ledger, path, { headers: as });

export interface AccountBody {
  accountId: string;
  owner: string;
  balanceCents: number;
  currency: string;
  status: 'open' | 'frozen';
  version: number;
}

/** Opens an account through the API and answers its id (asserting the 201). */
export async function openAccount(initialDepositCents = 0): Promise<string> {
  const response = await post('/ledger/accounts', { owner: 'Ada', currency: 'EUR', initialDepositCents });
  if (response.status !== 201) throw new Error(`open failed: ${response.status} ${await response.text()}`);
  return ((await response.json()) as { accountId: string }).accountId;
}

export async function readAccount(accountId: string): Promise<AccountBody> {
  const response = await get(`/ledger/accounts/${accountId}`);
  if (response.status !== 200) throw new Error(`read failed: ${response.status} ${await response.text()}`);
  return response.json();
}

export async function storedEvents(accountId: string): Promise<{ version: number; type: string; data: Record<string, number> }[]> {
  const { results } = await env.DB.prepare('SELECT version, type, data FROM events WHERE stream_id = ? ORDER BY version').bind(accountId).all<{ version: number; type: string; data: string }>();
  return results.map((row) => ({ version: row.version, type: row.type, data: JSON.parse(row.data) }));
}

export async function count(table: string, where = '1 = 1', ...params: unknown[]): Promise<number> {
  const row = await env.DB.prepare(`SELECT count(*) AS n FROM ${table} WHERE ${where}`)
    .bind(...params)
    .first<{ n: number }>();
  return row?.n ?? 0;
}
