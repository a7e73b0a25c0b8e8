import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { projectEvents, rebuildProjection } from '../../../workers/ledger/projections/projection-runner';
import { testUser } from '../../support/service-token';
import { asOperator, command, expectedReadModel, head, liveReadModel, rebuild, rebuildToEnd } from './projection-support';
import { callWorker, json } from '../../support/call-worker';
import { get, ledger, openAccount } from './support';

const shadowRows = async () => {
  const [b, t] = await env.DB.batch([env.DB.prepare('SELECT count(*) AS n FROM balances_rebuild'), env.DB.prepare('SELECT count(*) AS n FROM transactions_rebuild')]);
  return (b!.results[0] as { n: number }).n + (t!.results[0] as { n: number }).n;
};

/** Some accounts with some history, through the API. */
async function history(accounts = 3, movesEach = 4): Promise<string[]> {
  const ids: string[] = [];
  for (let a = 0; a < accounts; a++) {
    const id = await openAccount(1_000);
    for (let m = 0; m < movesEach; m++) await command(id, m % 2 ? 'withdraw' : 'deposit', 10 + m);
    ids.push(id);
  }
  return ids;
}

describe('ledger projection rebuild', () => {
  it.each(['balances', 'transactions'] as const)('POST /ledger/projections/%s/rebuild rebuilds it from zero, identical to the live one', async (name) => {
    await history();
    const before = await liveReadModel();
    const { status: body } = await rebuildToEnd(name);
    const after = await liveReadModel();
    expect(body).toMatchObject({ name, status: 'done', position: await head(), rows: after[name].rows.length });
    expect(after).toEqual(before);
    expect(after[name].position).toBe(body.position);
    // The shadow is emptied by the swap.
    expect(await shadowRows()).toBe(0);
  });

  it('repairs a live projection that went wrong: the rebuilt one is what the aggregate makes of the events', async () => {
    const [id] = await history(1, 2);
    await env.DB.batch([
      env.DB.prepare('UPDATE balances SET balance_cents = 1 WHERE account_id = ?').bind(id),
      env.DB.prepare('DELETE FROM transactions WHERE account_id = ? AND version = 2').bind(id),
    ]);
    expect((await rebuildToEnd('balances')).status.status).toBe('done');
    expect((await rebuildToEnd('transactions')).status.status).toBe('done');
    const live = await liveReadModel();
    const expected = await expectedReadModel(live.balances.position);
    expect(live.balances.rows).toEqual(expected.balances);
    expect(live.transactions.rows).toEqual(expected.transactions);
  });

  it('a rebuild while writes keep coming ends identical to the live one, and both equal the aggregate once the writes stop', async () => {
    const ids = await history(4, 3);
    // Small pages, so the writes below land between the rebuild's batches.
    const rebuilds = Promise.all([rebuildProjection(env.DB, 'balances', { pageSize: 3 }), rebuildProjection(env.DB, 'transactions', { pageSize: 3 })]);
    const writes = Promise.all(
      Array.from({ length: 24 }, (_, i) => (i % 5 === 4 ? openAccount(i) : command(ids[i % ids.length]!, i % 3 === 2 ? 'withdraw' : 'deposit', 1 + i))),
    );
    const [results] = await Promise.all([rebuilds, writes]);
    for (const result of results) expect(result.rows).toBeGreaterThan(0);
    await projectEvents(env.DB);
    const live = await liveReadModel();
    expect(live.balances.position).toBe(await head());
    expect(live.transactions.position).toBe(await head());
    const expected = await expectedReadModel(await head());
    expect(live.balances.rows).toEqual(expected.balances);
    expect(live.transactions.rows).toEqual(expected.transactions);
    // And rebuilding again from zero now gives exactly the live rows.
    // (Past one page of events the rebuild goes on from its object's alarm: wait for it to end.)
    expect((await rebuildToEnd('transactions')).status.status).toBe('done');
    expect((await rebuildToEnd('balances')).status.status).toBe('done');
    expect(await liveReadModel()).toEqual(live);
  });

  it('two rebuilds of one projection racing on its shadow (called directly, not through its object): the later one takes the shadow over, the earlier is 409', async () => {
    await history(1, 1);
    const outcomes = await Promise.allSettled([rebuildProjection(env.DB, 'balances', { pageSize: 1 }), rebuildProjection(env.DB, 'balances', { pageSize: 1 })]);
    expect(outcomes.map((o) => o.status).sort()).toEqual(['fulfilled', 'rejected']);
    const refused = outcomes.find((o) => o.status === 'rejected') as PromiseRejectedResult;
    expect(refused.reason.status).toBe(409);
  });

  it('a rebuild whose shadow a rebuild in another isolate took over is 409 and leaves the live rows as they were', async () => {
    await history(2, 2);
    const before = await liveReadModel();
    let batches = 0;
    // After the rebuild's first page, another rebuild starts: it empties the shadow and its checkpoint.
    const contested = new Proxy(env.DB, {
      get(target, property) {
        if (property === 'batch')
          return async (statements: D1PreparedStatement[]) => {
            if (++batches === 3)
              await target.batch([
                target.prepare('DELETE FROM transactions_rebuild'),
                target.prepare("UPDATE projection_checkpoints SET position = 0 WHERE name = 'transactions:rebuild'"),
              ]);
            return target.batch(statements);
          };
        const value = Reflect.get(target, property);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    await expect(rebuildProjection(contested, 'transactions', { pageSize: 2 })).rejects.toMatchObject({ status: 409 });
    expect(await liveReadModel()).toEqual(before);
  });

  it('is for operators: the ops scope or an admin; a customer is 403, an unknown name (top too: it is read from balances) 404', async () => {
    expect((await rebuild('balances', testUser('u1', 'customer'))).status).toBe(403);
    expect((await callWorker(ledger, '/ledger/projections/balances/rebuild', json({}))).status).toBe(403);
    expect((await rebuildToEnd('balances', testUser('root', 'admin'))).status.status).toBe('done');
    expect((await get('/ledger/projections/balances', testUser('u1', 'customer'))).status).toBe(403);
    expect((await get('/ledger/projections/nope', asOperator)).status).toBe(404);
    const unknown = await rebuild('nope');
    expect(unknown.status).toBe(404);
    expect((await rebuild('top')).status).toBe(404);
  });

  it('a rebuild larger than one invocation\'s share goes on from its object\'s alarm, slice by slice, and ends identical (202, Location, then done)', async () => {
    // 450 more events (more than two pages of 200; one page per invocation here), in one batch.
    const now = Date.now();
    await env.DB.batch(
      Array.from({ length: 450 }, (_, i) =>
        env.DB.prepare("INSERT INTO events (stream_id, version, type, data, metadata, recorded_at) VALUES (?, 1, 'AccountOpened', ?, '{}', ?)").bind(
          `acc_${crypto.randomUUID()}`,
          JSON.stringify({ owner: `Bulk ${i}`, currency: 'EUR', initialDepositCents: i, userId: 'u1' }),
          now,
        ),
      ),
    );
    await projectEvents(env.DB);
    const before = await liveReadModel();
    const { started, status } = await rebuildToEnd('balances');
    expect(started.status).toBe(202);
    expect(started.headers.get('location')).toBe('/ledger/projections/balances');
    expect(((await started.json()) as { status: string; slices: number }).status).toBe('running');
    expect(status).toMatchObject({ status: 'done', position: await head(), rows: before.balances.rows.length });
    expect(status.slices).toBeGreaterThanOrEqual(3);
    expect(await liveReadModel()).toEqual(before);
    // A POST while one runs joins it (one rebuild per projection, everywhere), and so does a second start after it.
    const [a, b] = await Promise.all([rebuild('transactions'), rebuild('transactions')]);
    expect([a.status, b.status]).toEqual([202, 202]);
    const joined = await Promise.all([a.json(), b.json()]) as { startedAt: string }[];
    expect(joined[0]!.startedAt).toBe(joined[1]!.startedAt);
    expect((await rebuildToEnd('transactions')).status.status).toBe('done');
    expect(await liveReadModel()).toEqual(before);
  });

  it('a slice that fails is retried from the alarm with backoff, the failure shown meanwhile, and the rebuild then completes', async () => {
    await history(1, 1);
    await projectEvents(env.DB);
    const before = await liveReadModel();
    // The shadow table gone: the first slice's reset fails.
    await env.DB.prepare('ALTER TABLE balances_rebuild RENAME TO balances_rebuild_away').run();
    let started: Response;
    try {
      started = await rebuild('balances');
    } finally {
      await env.DB.prepare('ALTER TABLE balances_rebuild_away RENAME TO balances_rebuild').run();
    }
    expect(started.status).toBe(202);
    const body = (await started.json()) as { status: string; error?: string };
    expect(body.status).toBe('running');
    expect(body.error).toContain('balances_rebuild');
    const { status } = await rebuildToEnd('balances');
    expect(status).toMatchObject({ status: 'done', position: await head() });
    expect(status.error).toBeUndefined();
    expect(status.slices).toBeGreaterThanOrEqual(2);
    expect(await liveReadModel()).toEqual(before);
  });
});
