import { env } from 'cloudflare:workers';
import { drizzle } from 'drizzle-orm/d1';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decide, evolve, type AccountState } from '../../../workers/ledger/account';
import { AccountStore } from '../../../workers/ledger/account-store';
import { count, openAccount, post, readAccount, storedEvents } from './support';

type Step = { kind: 'deposit' | 'withdraw'; amountCents: number } | { kind: 'freeze' };

const step: fc.Arbitrary<Step> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ kind: fc.constant('deposit' as const), amountCents: fc.integer({ min: 1, max: 5_000 }) }) },
  { weight: 5, arbitrary: fc.record({ kind: fc.constant('withdraw' as const), amountCents: fc.integer({ min: 1, max: 5_000 }) }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'freeze' as const }) },
);

/** The balance and status the stored events say, summed by hand (no evolve). */
function replayByHand(events: { type: string; data: Record<string, number> }[]) {
  let balanceCents = 0;
  let status = 'open';
  for (const { type, data } of events) {
    if (type === 'AccountOpened') balanceCents = data.initialDepositCents!;
    else if (type === 'MoneyDeposited') balanceCents += data.amountCents!;
    else if (type === 'MoneyWithdrawn') balanceCents -= data.amountCents!;
    else if (type === 'AccountFrozen') status = 'frozen';
  }
  return { balanceCents, status, version: events.length };
}

describe('ledger replay (fast-check)', () => {
  it('for random command sequences, the served account == a replay by hand == a model, with and without snapshots', async () => {
    // LEDGER_SNAPSHOT_EVERY is 5 in this project: sequences up to 25 commands cross several.
    const withSnapshots = new AccountStore(drizzle(env.DB), { snapshotEvery: 5 });
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: 10_000 }), fc.array(step, { maxLength: 25 }), async (initial, steps) => {
        const id = await openAccount(initial);
        let model = { balanceCents: initial, status: 'open' };
        for (const s of steps) {
          const response = s.kind === 'freeze' ? await post(`/ledger/accounts/${id}/freeze`, {}) : await post(`/ledger/accounts/${id}/${s.kind === 'deposit' ? 'deposits' : 'withdrawals'}`, { amountCents: s.amountCents });
          if (s.kind === 'deposit') model = { ...model, balanceCents: model.balanceCents + s.amountCents };
          if (s.kind === 'freeze') model = { ...model, status: 'frozen' };
          if (s.kind === 'withdraw') {
            const allowed = model.status === 'open' && s.amountCents <= model.balanceCents;
            expect(response.status).toBe(allowed ? 200 : 422);
            if (allowed) model = { ...model, balanceCents: model.balanceCents - s.amountCents };
          } else expect(response.status).toBe(200);
        }
        const events = await storedEvents(id);
        const byHand = replayByHand(events);
        const served = await readAccount(id);
        expect({ balanceCents: served.balanceCents, status: served.status, version: served.version }).toEqual(byHand);
        expect({ balanceCents: byHand.balanceCents, status: byHand.status }).toEqual(model);
        // Snapshot load (latest snapshot + tail) and full replay agree on everything.
        const full = await new AccountStore(drizzle(env.DB), { snapshotEvery: 0 }).load(id, { useSnapshots: false });
        expect(await withSnapshots.load(id)).toEqual(full);
        expect(await count('snapshots', 'stream_id = ?', id)).toBe(Math.floor(events.length / 5));
      }),
      { numRuns: 25 },
    );
  });

  it('a long stream loads the same from its latest snapshot plus the tail as from all its events', async () => {
    const id = await openAccount(0);
    for (let i = 1; i <= 23; i++) await post(`/ledger/accounts/${id}/deposits`, { amountCents: i });
    const snapshot = await env.DB.prepare('SELECT max(version) AS v FROM snapshots WHERE stream_id = ?').bind(id).first<{ v: number }>();
    expect(snapshot?.v).toBe(20);
    const store = new AccountStore(drizzle(env.DB), { snapshotEvery: 5 });
    const fromSnapshot = await store.load(id);
    expect(fromSnapshot).toEqual(await store.load(id, { useSnapshots: false }));
    expect(fromSnapshot).toEqual({ owner: 'Ada', userId: 'u1', currency: 'EUR', balanceCents: (23 * 24) / 2, status: 'open', version: 24 });
  });

  it('a load folds exactly the events after the snapshot it starts from (a marked snapshot shows through; no event is applied twice)', async () => {
    const id = await openAccount(0);
    for (let i = 1; i <= 7; i++) await post(`/ledger/accounts/${id}/deposits`, { amountCents: i });
    // Versions 1..8; the snapshot is at 5 (balance 1+2+3+4 = 10). Mark it: only a load that starts
    // from it and reads versions 6..8 alone answers marker + 5 + 6 + 7.
    const marker = 1_000_000;
    await env.DB.prepare("UPDATE snapshots SET state = json_set(state, '$.balanceCents', ?) WHERE stream_id = ? AND version = 5").bind(marker, id).run();
    const store = new AccountStore(drizzle(env.DB), { snapshotEvery: 5 });
    expect((await store.load(id))?.balanceCents).toBe(marker + 5 + 6 + 7);
    expect((await store.loadAt(id, { version: 6 }))?.balanceCents).toBe(marker + 5);
    expect((await store.loadAt(id, { version: 4 }))?.balanceCents).toBe(1 + 2 + 3);
    expect((await store.load(id, { useSnapshots: false }))?.balanceCents).toBe(28);
  });

  it('the pure aggregate: evolving what decide returns never leaves a negative balance (fast-check)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 1_000 }), fc.array(step, { maxLength: 60 }), (initial, steps) => {
        let state: AccountState = null;
        for (const event of decide({ type: 'OpenAccount', owner: 'o', currency: 'EUR', initialDepositCents: initial, userId: 'u1' }, state)) state = evolve(state, event);
        for (const s of steps) {
          const command = s.kind === 'freeze' ? { type: 'Freeze' as const } : { type: s.kind === 'deposit' ? ('Deposit' as const) : ('Withdraw' as const), amountCents: s.amountCents };
          try {
            for (const event of decide(command, state)) state = evolve(state, event);
          } catch (error) {
            expect((error as { status: number }).status).toBe(422);
          }
          expect(state!.balanceCents).toBeGreaterThanOrEqual(0);
        }
      }),
    );
  });
});
