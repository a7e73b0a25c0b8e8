import { describe, expect, it } from 'vitest';
import { callWorker, json } from '../../support/call-worker';
import { asStranger, count, ledger, openAccount, post, readAccount } from './support';

const deposit = (id: string, amountCents: number, key: string, extra: Record<string, string> = {}) =>
  post(`/ledger/accounts/${id}/deposits`, { amountCents }, { 'idempotency-key': key, ...extra });

describe('ledger commands with Idempotency-Key', () => {
  it('a repeated deposit is answered with the first result (Idempotent-Replayed) and lands once', async () => {
    const id = await openAccount(100);
    const first = await deposit(id, 40, 'dep-1');
    expect(first.status).toBe(200);
    expect(first.headers.get('idempotent-replayed')).toBeNull();
    await post(`/ledger/accounts/${id}/deposits`, { amountCents: 1 }); // something else happens in between
    const again = await deposit(id, 40, 'dep-1');
    expect(again.status).toBe(200);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(await again.json()).toEqual({ accountId: id, balanceCents: 140, version: 2 });
    expect(again.headers.get('etag')).toBe('"2"');
    expect((await readAccount(id)).balanceCents).toBe(141);
    expect(await count('events', 'stream_id = ?', id)).toBe(3);
  });

  it('twenty copies sent at once: one deposit, twenty equal answers', async () => {
    const id = await openAccount(0);
    const answers = await Promise.all(Array.from({ length: 20 }, () => deposit(id, 7, 'burst')));
    expect(answers.map((response) => response.status)).toEqual(Array(20).fill(200));
    const bodies = await Promise.all(answers.map((response) => response.json()));
    expect(new Set(bodies.map((body) => JSON.stringify(body)))).toEqual(new Set([JSON.stringify({ accountId: id, balanceCents: 7, version: 2 })]));
    expect((await readAccount(id)).balanceCents).toBe(7);
    expect(await count('command_keys', 'account_id = ?', id)).toBe(1);
  });

  it('twins whose command the first one\'s effect would refuse (a withdrawal now short, an If-Match now stale) answer the first one\'s result, not 422 or 409', async () => {
    const id = await openAccount(60);
    const withdrawals = await Promise.all(Array.from({ length: 10 }, () => post(`/ledger/accounts/${id}/withdrawals`, { amountCents: 50 }, { 'idempotency-key': 'wk' })));
    expect(withdrawals.map((response) => response.status)).toEqual(Array(10).fill(200));
    const bodies = new Set(await Promise.all(withdrawals.map(async (response) => JSON.stringify(await response.json()))));
    expect(bodies).toEqual(new Set([JSON.stringify({ accountId: id, balanceCents: 10, version: 2 })]));
    const pinned = await Promise.all(Array.from({ length: 10 }, () => deposit(id, 5, 'ik', { 'if-match': '"2"' })));
    expect(pinned.map((response) => response.status)).toEqual(Array(10).fill(200));
    expect((await readAccount(id)).balanceCents).toBe(15);
    expect(await count('events', 'stream_id = ?', id)).toBe(3);
  });

  it('the same key for another request (another amount, command or account) is 422 and writes nothing', async () => {
    const [a, b] = [await openAccount(100), await openAccount(100)];
    expect((await deposit(a, 10, 'k-reuse')).status).toBe(200);
    for (const response of [
      await deposit(a, 11, 'k-reuse'),
      await deposit(b, 10, 'k-reuse'),
      await post(`/ledger/accounts/${a}/withdrawals`, { amountCents: 10 }, { 'idempotency-key': 'k-reuse' }),
    ]) {
      expect(response.status).toBe(422);
      expect(((await response.json()) as { type: string }).type).toBe('/problems/idempotency-key-reused');
    }
    expect((await readAccount(a)).balanceCents).toBe(110);
    expect((await readAccount(b)).balanceCents).toBe(100);
  });

  it('opening with a key twice answers the same account; keys are per user', async () => {
    const body = { owner: 'Ada', currency: 'EUR', initialDepositCents: 3 };
    const first = await post('/ledger/accounts', body, { 'idempotency-key': 'open-1' });
    const again = await post('/ledger/accounts', body, { 'idempotency-key': 'open-1' });
    expect(first.status).toBe(201);
    expect(again.status).toBe(201);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    const [one, two] = (await Promise.all([first.json(), again.json()])) as { accountId: string }[];
    expect(two!.accountId).toBe(one!.accountId);
    expect(again.headers.get('location')).toBe(first.headers.get('location'));
    // Another user's same key is their own: a new account.
    const theirs = await callWorker(ledger, '/ledger/accounts', json(body, { ...asStranger, 'idempotency-key': 'open-1' }));
    expect(theirs.status).toBe(201);
    expect(theirs.headers.get('idempotent-replayed')).toBeNull();
    expect(((await theirs.json()) as { accountId: string }).accountId).not.toBe(one!.accountId);
  });

  it('a refused command records no key: after money arrives, the same key runs it', async () => {
    const id = await openAccount(5);
    const refused = await post(`/ledger/accounts/${id}/withdrawals`, { amountCents: 50 }, { 'idempotency-key': 'w-1' });
    expect(refused.status).toBe(422);
    await post(`/ledger/accounts/${id}/deposits`, { amountCents: 100 });
    const retried = await post(`/ledger/accounts/${id}/withdrawals`, { amountCents: 50 }, { 'idempotency-key': 'w-1' });
    expect(retried.status).toBe(200);
    expect(retried.headers.get('idempotent-replayed')).toBeNull();
    expect((await readAccount(id)).balanceCents).toBe(55);
  });

  it('with If-Match too: the retry of a command that committed is its answer, not 409', async () => {
    const id = await openAccount(10);
    const headers = { 'if-match': '"1"' };
    expect((await deposit(id, 5, 'im-1', headers)).status).toBe(200);
    const again = await deposit(id, 5, 'im-1', headers);
    expect(again.status).toBe(200);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect((await deposit(id, 5, 'im-2', headers)).status).toBe(409);
  });

  it('a malformed key is 400', async () => {
    const id = await openAccount(10);
    expect((await deposit(id, 5, 'has space')).status).toBe(400);
    expect((await readAccount(id)).balanceCents).toBe(10);
  });

  it('keys are kept for LEDGER_IDEMPOTENCY_RETENTION_MS: the cron prunes older ones (then the key is a new request), newer ones stay', async () => {
    const { env } = await import('cloudflare:workers');
    const { createExecutionContext, createScheduledController, waitOnExecutionContext } = await import('cloudflare:test');
    const worker = (await import('../../../workers/ledger/index')).default;
    const id = await openAccount(0);
    expect((await deposit(id, 3, 'old-key')).status).toBe(200);
    expect((await deposit(id, 4, 'fresh-key')).status).toBe(200);
    // The cron runs a day and a minute after the old key was recorded, a minute after the fresh one.
    const oldAt = (await env.DB.prepare("SELECT recorded_at AS at FROM command_keys WHERE idempotency_key = 'old-key'").first<{ at: number }>())!.at;
    const dayMs = 86_400_000;
    await env.DB.prepare("UPDATE command_keys SET recorded_at = ? WHERE idempotency_key = 'fresh-key'").bind(oldAt + dayMs).run();
    const ctx = createExecutionContext();
    worker.scheduled(createScheduledController({ scheduledTime: oldAt + dayMs + 60_000 }), env as never, ctx);
    await waitOnExecutionContext(ctx);
    expect(await count('command_keys', "idempotency_key = 'old-key'")).toBe(0);
    expect(await count('command_keys', "idempotency_key = 'fresh-key'")).toBe(1);
    // Past its retention the key is a new request: it runs again.
    const again = await deposit(id, 3, 'old-key');
    expect(again.headers.get('idempotent-replayed')).toBeNull();
    expect((await readAccount(id)).balanceCents).toBe(10);
    expect((await deposit(id, 4, 'fresh-key')).headers.get('idempotent-replayed')).toBe('true');
  });
});
