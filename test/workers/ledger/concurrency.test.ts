import { describe, expect, it } from 'vitest';
import { openAccount, post, readAccount, storedEvents } from './support';

describe('ledger concurrency', () => {
  // 60 commands racing on one stream, each retried on a version conflict: tens of seconds on a
  // busy CI machine, so its own limit.
  it('50 concurrent withdrawals never overdraw the account, and racing deposits are never lost', { timeout: 90_000 }, async () => {
    // 1,000 in the account, 50 withdrawals of 30 (1,500 asked for) racing 10 deposits of 7.
    const id = await openAccount(1000);
    const withdrawals = Array.from({ length: 50 }, () => post(`/ledger/accounts/${id}/withdrawals`, { amountCents: 30 }));
    const deposits = Array.from({ length: 10 }, () => post(`/ledger/accounts/${id}/deposits`, { amountCents: 7 }));
    const [withdrawn, deposited] = await Promise.all([Promise.all(withdrawals), Promise.all(deposits)]);

    expect(deposited.map((r) => r.status)).toEqual(Array(10).fill(200));
    const statuses = withdrawn.map((r) => r.status);
    expect(statuses.every((s) => s === 200 || s === 422)).toBe(true);
    const succeeded = statuses.filter((s) => s === 200).length;

    const account = await readAccount(id);
    expect(account.balanceCents).toBe(1000 + 10 * 7 - succeeded * 30);
    expect(account.balanceCents).toBeGreaterThanOrEqual(0);
    // No withdrawal was refused while the money was there: the opening 1,000 alone covers 33.
    expect(succeeded).toBeGreaterThanOrEqual(33);
    expect(succeeded).toBeLessThanOrEqual(35);
    const events = await storedEvents(id);
    expect(events.map((e) => e.version)).toEqual(events.map((_, i) => i + 1));
    expect(events.filter((e) => e.type === 'MoneyDeposited')).toHaveLength(10);
    expect(events.filter((e) => e.type === 'MoneyWithdrawn')).toHaveLength(succeeded);
    // Never below zero at any version.
    let balance = 0;
    for (const event of events) {
      balance += event.type === 'AccountOpened' ? event.data.initialDepositCents! : event.type === 'MoneyDeposited' ? event.data.amountCents! : -event.data.amountCents!;
      expect(balance).toBeGreaterThanOrEqual(0);
    }
  });

  it('If-Match with the current version applies; with a stale one it is 409 and writes nothing', async () => {
    const id = await openAccount(100);
    const current = await post(`/ledger/accounts/${id}/deposits`, { amountCents: 10 }, { 'if-match': '"1"' });
    expect(current.status).toBe(200);
    expect(current.headers.get('etag')).toBe('"2"');
    const stale = await post(`/ledger/accounts/${id}/withdrawals`, { amountCents: 10 }, { 'if-match': '"1"' });
    expect(stale.status).toBe(409);
    expect(((await stale.json()) as { type: string }).type).toBe('/problems/stale-version');
    const ahead = await post(`/ledger/accounts/${id}/deposits`, { amountCents: 10 }, { 'if-match': '"9"' });
    expect(ahead.status).toBe(409);
    expect(await storedEvents(id)).toHaveLength(2);
  });

  it('of two racing writes with the same If-Match, one applies and the other is 409', async () => {
    const id = await openAccount(100);
    const results = await Promise.all([1, 2].map(() => post(`/ledger/accounts/${id}/deposits`, { amountCents: 10 }, { 'if-match': '"1"' })));
    expect(results.map((r) => r.status).sort()).toEqual([200, 409]);
    expect((await readAccount(id)).balanceCents).toBe(110);
  });

  it('an If-Match that is not a quoted version is 400', async () => {
    const id = await openAccount(100);
    expect((await post(`/ledger/accounts/${id}/deposits`, { amountCents: 10 }, { 'if-match': '*' })).status).toBe(400);
    expect((await post(`/ledger/accounts/${id}/deposits`, { amountCents: 10 }, { 'if-match': '1' })).status).toBe(400);
  });
});
