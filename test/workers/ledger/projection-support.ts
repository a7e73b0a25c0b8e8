import { env } from 'cloudflare:workers';
import { evolve, type Account, type AccountEvent } from '../../../workers/ledger/account';
import { get, post } from './support';

export const asOperator = { 'x-test-scope': 'ops' };

/** POST /ledger/projections/:name/rebuild as the gateway's ops endpoint calls it. */
export const rebuild = (name: string, headers: Record<string, string> = asOperator) => post(`/ledger/projections/${name}/rebuild`, {}, headers);

export interface RebuildStatus {
  name: string;
  status: 'running' | 'done' | 'failed';
  position: number;
  rows?: number;
  slices: number;
  error?: string;
}

/**
 * Rebuilds `name` to the end: the POST, then (a 202: it goes on from its object's alarm) GET
 * /ledger/projections/:name until it is no longer running, within a deadline.
 */
export async function rebuildToEnd(name: string, as: Record<string, string> = asOperator): Promise<{ started: Response; status: RebuildStatus }> {
  const started = await rebuild(name, as);
  if (started.status !== 202) return { started, status: (await started.clone().json()) as RebuildStatus };
  // A polled GET joins nothing: the rebuild is driven by its object's alarm (poll with a deadline).
  const deadline = Date.now() + 20_000;
  for (;;) {
    const { rebuild: status } = (await (await get(`/ledger/projections/${name}`, as)).json()) as { rebuild: RebuildStatus };
    if (status.status !== 'running') return { started, status };
    if (Date.now() > deadline) throw new Error(`the rebuild of ${name} still runs after 20 s: ${JSON.stringify(status)}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

export interface TransactionItem {
  type: string;
  amountCents: number;
  balanceAfterCents: number;
  version: number;
  at: string;
}

export async function readTransactions(accountId: string): Promise<TransactionItem[]> {
  const response = await get(`/ledger/accounts/${accountId}/transactions`);
  if (response.status !== 200) throw new Error(`transactions failed: ${response.status} ${await response.text()}`);
  return ((await response.json()) as { items: TransactionItem[] }).items;
}

export interface BalanceRowView {
  account_id: string;
  owner: string;
  currency: string;
  balance_cents: number;
  status: string;
  version: number;
}

export interface TransactionRowView {
  account_id: string;
  version: number;
  type: string;
  amount_cents: number;
  balance_after_cents: number;
  at: number;
}

export interface ReadModel {
  position: number;
  balances: BalanceRowView[];
  transactions: TransactionRowView[];
}

const BALANCES = 'SELECT account_id, owner, currency, balance_cents, status, version FROM balances ORDER BY account_id';
const TRANSACTIONS = 'SELECT account_id, version, type, amount_cents, balance_after_cents, at FROM transactions ORDER BY account_id, version';

/**
 * The live read model and where each projection's checkpoint stands, read in one batch (one
 * transaction), so the rows are exactly those of that checkpoint even if writes go on.
 */
export async function liveReadModel(): Promise<{ balances: { position: number; rows: BalanceRowView[] }; transactions: { position: number; rows: TransactionRowView[] } }> {
  const checkpoint = (name: string) => env.DB.prepare('SELECT coalesce(max(position), 0) AS position FROM projection_checkpoints WHERE name = ?').bind(name);
  const [b, bRows, t, tRows] = await env.DB.batch([checkpoint('balances'), env.DB.prepare(BALANCES), checkpoint('transactions'), env.DB.prepare(TRANSACTIONS)]);
  return {
    balances: { position: (b!.results[0] as { position: number }).position, rows: bRows!.results as unknown as BalanceRowView[] },
    transactions: { position: (t!.results[0] as { position: number }).position, rows: tRows!.results as unknown as TransactionRowView[] },
  };
}

/**
 * The read model the aggregate says the events up to `position` make: every stream folded with
 * the aggregate's own `evolve`, the balance after each event being the state's balance then.
 */
export async function expectedReadModel(position: number): Promise<ReadModel> {
  const { results } = await env.DB.prepare('SELECT stream_id, version, type, data, recorded_at FROM events WHERE global_position <= ? ORDER BY global_position')
    .bind(position)
    .all<{ stream_id: string; version: number; type: AccountEvent['type']; data: string; recorded_at: number }>();
  const states = new Map<string, Account | null>();
  const transactions: TransactionRowView[] = [];
  for (const row of results) {
    const event = { type: row.type, data: JSON.parse(row.data) } as AccountEvent;
    const state = evolve(states.get(row.stream_id) ?? null, event)!;
    states.set(row.stream_id, state);
    const amount = event.type === 'AccountOpened' ? event.data.initialDepositCents : event.type === 'AccountFrozen' ? 0 : event.data.amountCents;
    transactions.push({ account_id: row.stream_id, version: row.version, type: row.type, amount_cents: amount, balance_after_cents: state.balanceCents, at: row.recorded_at });
  }
  const balances = [...states]
    .map(([id, s]) => ({ account_id: id, owner: s!.owner, currency: s!.currency, balance_cents: s!.balanceCents, status: s!.status, version: s!.version }))
    .sort((a, b) => (a.account_id < b.account_id ? -1 : 1));
  transactions.sort((a, b) => (a.account_id === b.account_id ? a.version - b.version : a.account_id < b.account_id ? -1 : 1));
  return { position, balances, transactions };
}

/** The global position of the newest event. */
export async function head(): Promise<number> {
  const row = await env.DB.prepare('SELECT coalesce(max(global_position), 0) AS p FROM events').first<{ p: number }>();
  return row?.p ?? 0;
}

/** A random deposit, withdrawal or freeze on `accountId` through the API (any answer). */
export function command(accountId: string, kind: 'deposit' | 'withdraw' | 'freeze', amountCents = 1) {
  if (kind === 'freeze') return post(`/ledger/accounts/${accountId}/freeze`, {});
  return post(`/ledger/accounts/${accountId}/${kind === 'deposit' ? 'deposits' : 'withdrawals'}`, { amountCents });
}
