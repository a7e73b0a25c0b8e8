import { env } from 'cloudflare:workers';
import { drizzle } from 'drizzle-orm/d1';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { rebuild as fold, type AccountEvent } from '../../../workers/ledger/account';
import { AccountStore } from '../../../workers/ledger/account-store';
import { command, expectedReadModel, liveReadModel, readTransactions } from './projection-support';
import { get, openAccount, storedEvents, asAdmin } from './support';

type Kind = 'deposit' | 'withdraw' | 'freeze';
const step = fc.record({
  account: fc.nat({ max: 2 }),
  kind: fc.constantFrom<Kind>('deposit', 'deposit', 'withdraw', 'withdraw', 'freeze'),
  amountCents: fc.integer({ min: 1, max: 3_000 }),
});

describe('ledger projections (fast-check)', () => {
  it('for random command sequences on a few accounts, some sent at once, the projections match the aggregate', async () => {
    const replay = new AccountStore(drizzle(env.DB), { snapshotEvery: 0 });
    await fc.assert(
      fc.asyncProperty(fc.array(fc.integer({ min: 0, max: 5_000 }), { minLength: 1, maxLength: 3 }), fc.array(fc.array(step, { minLength: 1, maxLength: 3 }), { maxLength: 8 }), async (initials, rounds) => {
        const ids = await Promise.all(initials.map((cents) => openAccount(cents)));
        // Each round's commands go out together: the catch-ups they trigger overlap.
        for (const round of rounds) await Promise.all(round.map((s) => command(ids[s.account % ids.length]!, s.kind, s.amountCents)));

        const live = await liveReadModel();
        for (const id of ids) {
          const account = (await replay.load(id, { useSnapshots: false }))!;
          const row = live.balances.rows.find((r) => r.account_id === id);
          expect(row).toEqual({ account_id: id, owner: account.owner, currency: account.currency, balance_cents: account.balanceCents, status: account.status, version: account.version });
          // The history: one item per event, and the balance after each is the aggregate's at that version.
          const events = (await storedEvents(id)) as unknown as AccountEvent[];
          const history = await readTransactions(id);
          expect(history.map((item) => item.version)).toEqual(events.map((_, i) => i + 1));
          expect(history.map((item) => item.type)).toEqual(events.map((e) => e.type));
          expect(history.map((item) => item.balanceAfterCents)).toEqual(events.map((_, i) => fold(events.slice(0, i + 1))!.balanceCents));
        }
        // The whole read model, not only these accounts: the fold of every event up to the checkpoint.
        const expected = await expectedReadModel(live.balances.position);
        expect(live.balances.rows).toEqual(expected.balances);
        expect(live.transactions.rows).toEqual((await expectedReadModel(live.transactions.position)).transactions);
        // Top: the balances rows, highest first, ties by the greater account id.
        const top = ((await (await get('/ledger/top?limit=100', asAdmin)).json()) as { items: { accountId: string; balanceCents: number }[] }).items;
        const byBalance = [...expected.balances].sort((a, b) => b.balance_cents - a.balance_cents || (a.account_id < b.account_id ? 1 : -1)).slice(0, 100);
        expect(top.map((item) => [item.accountId, item.balanceCents])).toEqual(byBalance.map((r) => [r.account_id, r.balance_cents]));
      }),
      { numRuns: 15 },
    );
  });
});
