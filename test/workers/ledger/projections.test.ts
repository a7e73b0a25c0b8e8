import { env } from 'cloudflare:workers';
import { drizzle } from 'drizzle-orm/d1';
import { describe, expect, it } from 'vitest';
import { balanceChanges } from '../../../workers/ledger/projections/balances';
import { catchUp, PAGES_AFTER_COMMIT, projectAfterCommit, projectEvents, readCheckpoint } from '../../../workers/ledger/projections/projection-runner';
import { transactionChanges } from '../../../workers/ledger/projections/transactions';
import { callWorker } from '../../support/call-worker';
import { expectedReadModel, head, liveReadModel, readTransactions } from './projection-support';
import { asAdmin, get, ledger, openAccount, post } from './support';

const db = () => drizzle(env.DB);

/** Shadow rows of one projection, to compare with the live ones. */
const rows = async (table: string, order: string) => (await env.DB.prepare(`SELECT * FROM ${table} ORDER BY ${order}`).all()).results;
const shadowMatchesLive = async () => {
  expect(await rows('balances_rebuild', 'account_id')).toEqual(await rows('balances', 'account_id'));
  expect(await rows('transactions_rebuild', 'account_id, version')).toEqual(await rows('transactions', 'account_id, version'));
};
/** Empties the shadow copies and their checkpoints, as a rebuild's first batch does. */
const resetShadows = () =>
  env.DB.batch([
    env.DB.prepare('DELETE FROM balances_rebuild'),
    env.DB.prepare('DELETE FROM transactions_rebuild'),
    env.DB.prepare("DELETE FROM projection_checkpoints WHERE name LIKE '%:rebuild'"),
  ]);
const runShadow = (pageSize: number, database = db()) =>
  Promise.all([catchUp(database, 'balances', { target: 'shadow', pageSize }), catchUp(database, 'transactions', { target: 'shadow', pageSize })]);


/**
 * env.DB as a catch-up sees it, with knobs: `hang` makes every call made meanwhile never settle
 * (the I/O of a cancelled request), `calls` counts the D1 calls (statements run and batches),
 * `onBatch` runs before each batch.
 */
function controllableD1(database: D1Database) {
  const control = { hang: false, calls: 0, onBatch: undefined as (() => void) | undefined };
  const never = () => new Promise<never>(() => {});
  const statement = (real: D1PreparedStatement): D1PreparedStatement =>
    new Proxy(real, {
      get(target, property) {
        const value = Reflect.get(target, property);
        if (property === 'bind') return (...args: unknown[]) => statement(target.bind(...args));
        if (typeof value !== 'function') return value;
        if (['all', 'raw', 'first', 'run'].includes(String(property)))
          return (...args: unknown[]) => {
            control.calls++;
            return control.hang ? never() : value.apply(target, args);
          };
        return value.bind(target);
      },
    });
  const proxy = new Proxy(database, {
    get(target, property) {
      if (Object.hasOwn(control, property)) return control[property as keyof typeof control];
      if (property === 'prepare') return (query: string) => statement(target.prepare(query));
      if (property === 'batch')
        return (statements: D1PreparedStatement[]) => {
          control.calls++;
          control.onBatch?.();
          return control.hang ? never() : target.batch(statements);
        };
      const value = Reflect.get(target, property);
      return typeof value === 'function' ? value.bind(target) : value;
    },
    set(_target, property, value) {
      if (!Object.hasOwn(control, property)) return false;
      (control as Record<string, unknown>)[property as string] = value;
      return true;
    },
  });
  return proxy as D1Database & typeof control;
}

/** `count` AccountOpened events appended behind the runner's back (a backlog). */
const appendBacklog = (count: number) =>
  env.DB.batch(
    Array.from({ length: count }, () =>
      env.DB.prepare("INSERT INTO events (stream_id, version, type, data, metadata, recorded_at) VALUES (?, 1, 'AccountOpened', ?, '{}', 1)").bind(
        `acc_${crypto.randomUUID()}`,
        JSON.stringify({ owner: 'Backlog', currency: 'EUR', initialDepositCents: 1, userId: 'u1' }),
      ),
    ),
  );

describe('ledger projections', () => {
  it('the pure projections: each event is one change, relative where it can be', () => {
    const base = { streamId: 'acc_1', metadata: {}, globalPosition: 9, recordedAt: 1_700_000_000_000 };
    expect(balanceChanges({ ...base, version: 3, type: 'MoneyWithdrawn', data: { amountCents: 40 } })).toEqual([{ op: 'move', accountId: 'acc_1', deltaCents: -40, version: 3 }]);
    expect(transactionChanges({ ...base, version: 1, type: 'AccountOpened', data: { owner: 'Ada', currency: 'EUR', initialDepositCents: 70 } })).toEqual([
      { accountId: 'acc_1', version: 1, type: 'AccountOpened', amountCents: 70, balanceAfter: { cents: 70 }, at: base.recordedAt },
    ]);
    expect(transactionChanges({ ...base, version: 4, type: 'AccountFrozen', data: {} })).toEqual([
      { accountId: 'acc_1', version: 4, type: 'AccountFrozen', amountCents: 0, balanceAfter: { previousPlusCents: 0 }, at: base.recordedAt },
    ]);
    expect(balanceChanges({ ...base, version: 1, type: 'SomethingNew' as never, data: {} as never })).toEqual([]);
  });

  it('are caught up when a command answers (waitUntil): the balance row and the history with balanceAfterCents', async () => {
    const id = await openAccount(100);
    await post(`/ledger/accounts/${id}/deposits`, { amountCents: 250 });
    await post(`/ledger/accounts/${id}/withdrawals`, { amountCents: 50 });
    await post(`/ledger/accounts/${id}/freeze`, {});
    await post(`/ledger/accounts/${id}/deposits`, { amountCents: 5 });
    const history = await readTransactions(id);
    expect(history.map(({ at, ...item }) => item)).toEqual([
      { type: 'AccountOpened', amountCents: 100, balanceAfterCents: 100, version: 1 },
      { type: 'MoneyDeposited', amountCents: 250, balanceAfterCents: 350, version: 2 },
      { type: 'MoneyWithdrawn', amountCents: 50, balanceAfterCents: 300, version: 3 },
      { type: 'AccountFrozen', amountCents: 0, balanceAfterCents: 300, version: 4 },
      { type: 'MoneyDeposited', amountCents: 5, balanceAfterCents: 305, version: 5 },
    ]);
    expect(history.every((item) => !Number.isNaN(Date.parse(item.at)))).toBe(true);
    const balance = await env.DB.prepare('SELECT balance_cents, status, version FROM balances WHERE account_id = ?').bind(id).first();
    expect(balance).toEqual({ balance_cents: 305, status: 'frozen', version: 5 });
    const live = await liveReadModel();
    expect(live.balances.position).toBe(await head());
    expect(live.transactions.position).toBe(await head());
  });

  it('the live read model equals what the aggregate makes of the events up to its checkpoint', async () => {
    const id = await openAccount(10);
    for (let i = 0; i < 5; i++) await post(`/ledger/accounts/${id}/deposits`, { amountCents: i + 1 });
    const live = await liveReadModel();
    expect(live.balances.rows).toEqual((await expectedReadModel(live.balances.position)).balances);
    expect(live.transactions.rows).toEqual((await expectedReadModel(live.transactions.position)).transactions);
  });

  it('a catch-up run again applies nothing twice, and then applies only the events after its checkpoint', async () => {
    await openAccount(7);
    await resetShadows();
    await runShadow(4);
    await shadowMatchesLive();
    await runShadow(4);
    await shadowMatchesLive();
    const id = await openAccount(1);
    await post(`/ledger/accounts/${id}/deposits`, { amountCents: 2 });
    await runShadow(4);
    await shadowMatchesLive();
    expect(await readCheckpoint(db(), 'balances:rebuild')).toBe(await head());
  });

  it('resumes where it stopped: a run that dies after two pages leaves exactly those pages and their checkpoint', async () => {
    for (let i = 0; i < 4; i++) await openAccount(i);
    await resetShadows();
    // The database refuses every batch after the second: the run dies mid-way.
    let batches = 0;
    const dying = new Proxy(env.DB, {
      get(target, property) {
        if (property === 'batch')
          return (statements: D1PreparedStatement[]) => {
            if (++batches > 2) return Promise.reject(new Error('isolate gone'));
            return target.batch(statements);
          };
        const value = Reflect.get(target, property);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    await expect(catchUp(drizzle(dying), 'transactions', { target: 'shadow', pageSize: 3 })).rejects.toThrow('isolate gone');
    const stopped = await readCheckpoint(db(), 'transactions:rebuild');
    const { results } = await env.DB.prepare('SELECT global_position FROM events ORDER BY global_position LIMIT 6').all<{ global_position: number }>();
    expect(stopped).toBe(results[5]!.global_position);
    expect((await env.DB.prepare('SELECT count(*) AS n FROM transactions_rebuild').first<{ n: number }>())?.n).toBe(6);
    await runShadow(3);
    await shadowMatchesLive();
  });

  it('two catch-ups racing on one checkpoint apply every event once: the loser of each batch retries from the winner', async () => {
    // The shadows caught up first, so the race is over this test's own events only: the project's
    // other files share this database, and a race of three runners over all their history in pages
    // of 2 can lose the projection's 20 races in a row (its guard against a livelock), which is not
    // what this test is about.
    await resetShadows();
    await runShadow(50);
    for (let i = 0; i < 3; i++) {
      const id = await openAccount(100);
      await post(`/ledger/accounts/${id}/withdrawals`, { amountCents: 30 });
    }
    await Promise.all([runShadow(2), runShadow(2), runShadow(5)]);
    await shadowMatchesLive();
  });

  it('a batch whose checkpoint another runner moved first fails whole, writes nothing, and the loser goes on from there', async () => {
    await openAccount(5);
    await resetShadows();
    // Just before the first batch of the run under test, a rival runs the same projection to the head.
    const outcomes: string[] = [];
    const rivalled = new Proxy(env.DB, {
      get(target, property) {
        if (property === 'batch')
          return async (statements: D1PreparedStatement[]) => {
            if (outcomes.length === 0) await catchUp(db(), 'balances', { target: 'shadow', pageSize: 3 });
            try {
              const result = await target.batch(statements);
              outcomes.push('committed');
              return result;
            } catch (error) {
              outcomes.push('refused');
              throw error;
            }
          };
        const value = Reflect.get(target, property);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    expect(await catchUp(drizzle(rivalled), 'balances', { target: 'shadow', pageSize: 3 })).toBe(await head());
    expect(outcomes).toEqual(['refused']);
    expect(await rows('balances_rebuild', 'account_id')).toEqual(await rows('balances', 'account_id'));
  });

  it('one isolate runs one catch-up at a time: concurrent triggers share it and still see every event', async () => {
    const ids = await Promise.all([openAccount(1), openAccount(2), openAccount(3)]);
    await Promise.all([projectEvents(env.DB), projectEvents(env.DB), projectEvents(env.DB)]);
    const live = await liveReadModel();
    expect(live.balances.rows.filter((row) => ids.includes(row.account_id))).toHaveLength(3);
    expect(live.balances.rows).toEqual((await expectedReadModel(live.balances.position)).balances);
  });

  it('a catch-up whose request was cancelled (its I/O never settles) does not stop the read models: the next trigger takes over once its claim ends', async () => {
    await projectEvents(env.DB);
    const database = controllableD1(env.DB);
    database.hang = true; // the first request is cancelled mid-run: its D1 calls never answer
    void projectEvents(database, { runDeadlineMs: 200 });
    database.hang = false;
    await appendBacklog(1);
    const settledInTime = await Promise.race([
      projectEvents(database, { runDeadlineMs: 200 }).then(() => 'applied'),
      new Promise((resolve) => setTimeout(() => resolve('still stuck'), 5_000)),
    ]);
    expect(settledInTime).toBe('applied');
    expect(await readCheckpoint(db(), 'balances')).toBe(await head());
    expect(await readCheckpoint(db(), 'transactions')).toBe(await head());
  });

  it('triggers arriving during a run do not stretch it past its budget: one invocation makes at most 1 + 2 × maxPages D1 calls per projection', async () => {
    await projectEvents(env.DB);
    await appendBacklog(10);
    const database = controllableD1(env.DB);
    // Every batch the run commits, a command somewhere in this isolate asks for another pass
    // (with no budget of its own, so every call counted here is the first run's).
    database.onBatch = () => void projectEvents(database, { maxPages: 0 });
    await projectEvents(database, { maxPages: 1, pageSize: 1 });
    expect(database.calls).toBeLessThanOrEqual(2 * (1 + 2 * 1));
    expect(database.calls).toBeGreaterThan(0);
  });

  it('one pass after a command applies at most PAGES_AFTER_COMMIT pages per projection: a backlog is worked off a bounded share at a time', async () => {
    const { createExecutionContext, waitOnExecutionContext } = await import('cloudflare:test');
    await projectEvents(env.DB);
    const start = await readCheckpoint(db(), 'balances');
    const backlog = (PAGES_AFTER_COMMIT + 2) * 200;
    await env.DB.batch(
      Array.from({ length: backlog }, () =>
        env.DB.prepare("INSERT INTO events (stream_id, version, type, data, metadata, recorded_at) VALUES (?, 1, 'AccountOpened', ?, '{}', 1)").bind(
          `acc_${crypto.randomUUID()}`,
          JSON.stringify({ owner: 'Backlog', currency: 'EUR', initialDepositCents: 1, userId: 'u1' }),
        ),
      ),
    );
    const ctx = createExecutionContext();
    projectAfterCommit(env, ctx);
    await waitOnExecutionContext(ctx);
    const positions = (await env.DB.prepare('SELECT global_position FROM events WHERE global_position > ? ORDER BY global_position').bind(start).all<{ global_position: number }>()).results;
    expect(await readCheckpoint(db(), 'balances')).toBe(positions[PAGES_AFTER_COMMIT * 200 - 1]!.global_position);
    expect(await readCheckpoint(db(), 'transactions')).toBe(positions[PAGES_AFTER_COMMIT * 200 - 1]!.global_position);
    await projectEvents(env.DB);
    expect(await readCheckpoint(db(), 'balances')).toBe(await head());
  });

  it('the cron trigger catches the projections up too', async () => {
    const { createExecutionContext, createScheduledController, waitOnExecutionContext } = await import('cloudflare:test');
    const worker = (await import('../../../workers/ledger/index')).default;
    // An event the request path never projected (appended behind its back).
    await env.DB.prepare(
      "INSERT INTO events (stream_id, version, type, data, metadata, recorded_at) VALUES (?, 1, 'AccountOpened', ?, '{}', 1)",
    )
      .bind(`acc_${crypto.randomUUID()}`, JSON.stringify({ owner: 'Cron', currency: 'EUR', initialDepositCents: 3 }))
      .run();
    const ctx = createExecutionContext();
    worker.scheduled(createScheduledController(), env as never, ctx);
    await waitOnExecutionContext(ctx);
    expect(await readCheckpoint(db(), 'balances')).toBe(await head());
    expect(await readCheckpoint(db(), 'transactions')).toBe(await head());
  });

  it('GET /ledger/top (admins): accounts by balance, highest first, ties by account id, limit 1..100 (default 10)', async () => {
    const big = [9_000_000_003, 9_000_000_001, 9_000_000_002, 9_000_000_002];
    const ids = await Promise.all(big.map((cents) => openAccount(cents)));
    const response = await get('/ledger/top?limit=4', asAdmin);
    expect(response.status).toBe(200);
    const { items } = (await response.json()) as { items: { accountId: string; balanceCents: number; owner: string; currency: string; status: string; version: number }[] };
    const tied = [ids[2]!, ids[3]!].sort().reverse();
    expect(items.map((item) => item.accountId)).toEqual([ids[0], ...tied, ids[1]]);
    expect(items[0]).toEqual({ accountId: ids[0], owner: 'Ada', balanceCents: 9_000_000_003, currency: 'EUR', status: 'open', version: 1 });
    const byDefault = ((await (await get('/ledger/top', asAdmin)).json()) as { items: { balanceCents: number }[] }).items;
    expect(byDefault.length).toBeLessThanOrEqual(10);
    expect(byDefault.map((item) => item.balanceCents)).toEqual(byDefault.map((item) => item.balanceCents).sort((a, b) => b - a));
    for (const bad of ['0', '101', 'ten', '1.5']) expect((await get(`/ledger/top?limit=${bad}`, asAdmin)).status).toBe(400);
    expect((await get('/ledger/top?limit=100', asAdmin)).status).toBe(200);
  });

  it('top is for admins (a customer is 403: other holders\' balances are not theirs to see)', async () => {
    const response = await get('/ledger/top');
    expect(response.status).toBe(403);
    expect(response.headers.get('content-type')).toContain('application/problem+json');
  });

  it('top?currency= ranks one currency alone (amounts in two currencies do not compare); a bad code is 400', async () => {
    const open = async (currency: string, initialDepositCents: number) => {
      const response = await post('/ledger/accounts', { owner: 'Ada', currency, initialDepositCents });
      return ((await response.json()) as { accountId: string }).accountId;
    };
    const yen = await open('JPY', 8_000_000_000_000);
    const [chf1, chf2] = [await open('CHF', 7), await open('CHF', 9)];
    await projectEvents(env.DB);
    const chf = ((await (await get('/ledger/top?currency=CHF&limit=100', asAdmin)).json()) as { items: { accountId: string; currency: string }[] }).items;
    expect(chf.every((item) => item.currency === 'CHF')).toBe(true);
    expect(chf.map((item) => item.accountId)).toEqual(expect.arrayContaining([chf2, chf1]));
    expect(chf.findIndex((item) => item.accountId === chf2)).toBeLessThan(chf.findIndex((item) => item.accountId === chf1));
    expect(chf.map((item) => item.accountId)).not.toContain(yen);
    expect((await get('/ledger/top?currency=chf', asAdmin)).status).toBe(400);
    const { results } = await env.DB.prepare("EXPLAIN QUERY PLAN SELECT * FROM balances WHERE currency = 'CHF' ORDER BY balance_cents DESC, account_id DESC LIMIT 10").all<{ detail: string }>();
    const plan = results.map((row) => row.detail).join(' | ');
    expect(plan).toContain('balances_by_currency_balance');
    expect(plan).not.toContain('TEMP B-TREE');
  });

  it('top reads the balances index, no sort and no second table', async () => {
    const { results } = await env.DB.prepare('EXPLAIN QUERY PLAN SELECT * FROM balances ORDER BY balance_cents DESC, account_id DESC LIMIT 10').all<{ detail: string }>();
    const plan = results.map((row) => row.detail).join(' | ');
    expect(plan).toContain('balances_by_balance');
    expect(plan).not.toContain('TEMP B-TREE');
  });

  it('GET transactions: 404 for an unknown account, 401 without a user', async () => {
    expect((await get(`/ledger/accounts/acc_${crypto.randomUUID()}/transactions`)).status).toBe(404);
    expect((await get('/ledger/accounts/nope/transactions')).status).toBe(400);
    const id = await openAccount(1);
    expect((await callWorker(ledger, `/ledger/accounts/${id}/transactions`)).status).toBe(401);
    expect((await callWorker(ledger, '/ledger/top')).status).toBe(401);
  });
});
