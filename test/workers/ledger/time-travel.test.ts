import { env } from 'cloudflare:workers';
import { drizzle } from 'drizzle-orm/d1';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { AccountCommand } from '../../../workers/ledger/account';
import { AccountStore } from '../../../workers/ledger/account-store';
import { get, openAccount, post, readAccount, type AccountBody } from './support';

/** The test project snapshots every 5 events (vitest.config.mts), so streams here cross several. */
const SNAPSHOT_EVERY = 5;

interface StoredEvent {
  version: number;
  type: string;
  data: Record<string, number>;
  recordedAt: number;
}

async function storedEventsWithTimes(accountId: string): Promise<StoredEvent[]> {
  const { results } = await env.DB.prepare('SELECT version, type, data, recorded_at FROM events WHERE stream_id = ? ORDER BY version')
    .bind(accountId)
    .all<{ version: number; type: string; data: string; recorded_at: number }>();
  return results.map((row) => ({ version: row.version, type: row.type, data: JSON.parse(row.data), recordedAt: row.recorded_at }));
}

/** The account the given events make, summed by hand (no evolve); null when there are none. */
function replayByHand(accountId: string, events: StoredEvent[]): AccountBody | null {
  if (events.length === 0) return null;
  let balanceCents = 0;
  let status: AccountBody['status'] = 'open';
  for (const { type, data } of events) {
    if (type === 'AccountOpened') balanceCents = data.initialDepositCents!;
    else if (type === 'MoneyDeposited') balanceCents += data.amountCents!;
    else if (type === 'MoneyWithdrawn') balanceCents -= data.amountCents!;
    else if (type === 'AccountFrozen') status = 'frozen';
  }
  return { accountId, owner: 'Ada', balanceCents, currency: 'EUR', status, version: events.length };
}

/** GET the account at a point: the body on 200, null on 404 (anything else fails the test). */
async function readAt(accountId: string, query: string): Promise<AccountBody | null> {
  const response = await get(`/ledger/accounts/${accountId}?${query}`);
  if (response.status === 404) return null;
  expect(response.status, await response.clone().text()).toBe(200);
  return response.json();
}

const iso = (ms: number) => new Date(ms).toISOString();

/**
 * Writes an account's history with chosen recording times: each command is appended with the
 * clock at `times[i]` (epoch ms), as the worker would append it at that moment. Snapshots are
 * written as the worker writes them (every 5 events).
 */
async function historyAt(commands: AccountCommand[], times: number[]): Promise<string> {
  const accountId = `acc_${crypto.randomUUID()}`;
  let clock = 0;
  const store = new AccountStore(drizzle(env.DB), { snapshotEvery: SNAPSHOT_EVERY, now: () => clock });
  for (const [i, command] of commands.entries()) {
    clock = times[i]!;
    try {
      await store.execute(accountId, command);
    } catch (error) {
      // A refused command (insufficient funds, frozen) writes nothing: part of the history too.
      if ((error as { status?: number }).status !== 422) throw error;
    }
  }
  return accountId;
}

type Step = { type: 'Deposit' | 'Withdraw'; amountCents: number } | { type: 'Freeze' };
const step: fc.Arbitrary<Step> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ type: fc.constant('Deposit' as const), amountCents: fc.integer({ min: 1, max: 5_000 }) }) },
  { weight: 5, arbitrary: fc.record({ type: fc.constant('Withdraw' as const), amountCents: fc.integer({ min: 1, max: 5_000 }) }) },
  { weight: 1, arbitrary: fc.constant({ type: 'Freeze' as const }) },
);

const T0 = Date.parse('2026-01-01T00:00:00Z');

describe('ledger time travel: ?asOf=<ISO-8601>', () => {
  it('answers what replaying by hand the events recorded at or before that time gives, for random histories and times (fast-check)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: 10_000 }),
        // Gaps of 0 ms too: several events recorded in the same millisecond.
        fc.array(fc.tuple(step, fc.integer({ min: 0, max: 5_000 })), { maxLength: 20 }),
        fc.array(fc.integer({ min: -2_000, max: 120_000 }), { minLength: 1, maxLength: 6 }),
        async (initial, steps, offsets) => {
          const times = [T0];
          for (const [, gap] of steps) times.push(times.at(-1)! + gap);
          const commands: AccountCommand[] = [{ type: 'OpenAccount', owner: 'Ada', currency: 'EUR', initialDepositCents: initial, userId: 'u1' }, ...steps.map(([s]) => s)];
          const id = await historyAt(commands, times);
          const events = await storedEventsWithTimes(id);
          // Every event's own time, a millisecond either side, and the random ones.
          const probes = [...offsets.map((o) => T0 + o), ...events.flatMap((e) => [e.recordedAt - 1, e.recordedAt, e.recordedAt + 1])];
          for (const at of probes) {
            const byHand = replayByHand(
              id,
              events.filter((e) => e.recordedAt <= at),
            );
            expect([at, await readAt(id, `asOf=${encodeURIComponent(iso(at))}`)]).toEqual([at, byHand]);
          }
        },
      ),
      { numRuns: 15 },
    );
  });

  it('is 404 before the account was opened, the current account after its last event, and takes an offset or a bare date', async () => {
    const id = await historyAt(
      [
        { type: 'OpenAccount', owner: 'Ada', currency: 'EUR', initialDepositCents: 100, userId: 'u1' },
        { type: 'Deposit', amountCents: 50 },
        { type: 'Withdraw', amountCents: 30 },
      ],
      [Date.parse('2026-03-10T12:00:00Z'), Date.parse('2026-03-11T12:00:00Z'), Date.parse('2026-03-12T12:00:00Z')],
    );
    expect(await readAt(id, 'asOf=2026-03-10T11:59:59.999Z')).toBeNull();
    expect((await get(`/ledger/accounts/${id}?asOf=2026-03-10T11:59:59Z`)).status).toBe(404);
    expect(await readAt(id, 'asOf=2026-03-10T12:00:00Z')).toMatchObject({ balanceCents: 100, version: 1 });
    // 13:30 at +01:30 is 12:00 UTC: the deposit's own moment.
    expect(await readAt(id, `asOf=${encodeURIComponent('2026-03-11T13:30:00+01:30')}`)).toMatchObject({ balanceCents: 150, version: 2 });
    // A bare date is its first instant, UTC.
    expect(await readAt(id, 'asOf=2026-03-12')).toMatchObject({ balanceCents: 150, version: 2 });
    expect(await readAt(id, 'asOf=2030-01-01T00:00:00Z')).toEqual(await readAccount(id));
  });
});

describe('ledger time travel: ?asOfVersion=N', () => {
  it('at every version of a stream that crosses several snapshots, equals a full replay of the events up to it', async () => {
    const id = await openAccount(1_000);
    for (let i = 1; i <= 13; i++) {
      const response = i % 4 === 0 ? await post(`/ledger/accounts/${id}/withdrawals`, { amountCents: 7 * i }) : await post(`/ledger/accounts/${id}/deposits`, { amountCents: i });
      expect(response.status).toBe(200);
    }
    expect((await env.DB.prepare('SELECT version FROM snapshots WHERE stream_id = ? ORDER BY version').bind(id).all<{ version: number }>()).results.map((r) => r.version)).toEqual([5, 10]);
    const events = await storedEventsWithTimes(id);
    expect(events).toHaveLength(14);
    const noSnapshots = new AccountStore(drizzle(env.DB), { snapshotEvery: 0 });
    for (let version = 1; version <= 14; version++) {
      const served = await readAt(id, `asOfVersion=${version}`);
      // By hand, and by the aggregate from every event (no snapshot) up to that version.
      expect(served).toEqual(replayByHand(id, events.slice(0, version)));
      const full = await noSnapshots.loadAt(id, { version }, { useSnapshots: false });
      expect(served).toMatchObject({ balanceCents: full!.balanceCents, status: full!.status, version: full!.version });
    }
    expect(await readAt(id, 'asOfVersion=14')).toEqual(await readAccount(id));
  });

  it('ignores a snapshot taken after the version asked for', async () => {
    const id = await openAccount(10);
    for (let i = 0; i < 6; i++) await post(`/ledger/accounts/${id}/deposits`, { amountCents: 1 });
    // Version 5 is snapshotted (balance 14); version 4 must come from events 1..4 alone.
    expect(await readAt(id, 'asOfVersion=4')).toMatchObject({ balanceCents: 13, version: 4 });
    expect(await readAt(id, 'asOfVersion=5')).toMatchObject({ balanceCents: 14, version: 5 });
    expect(await readAt(id, 'asOfVersion=6')).toMatchObject({ balanceCents: 15, version: 6 });
  });

  it('is 404 past the stream\'s end, at version 0 and for an account that does not exist; a past answer has no ETag', async () => {
    const id = await openAccount(10);
    await post(`/ledger/accounts/${id}/deposits`, { amountCents: 5 });
    expect((await get(`/ledger/accounts/${id}?asOfVersion=3`)).status).toBe(404);
    expect((await get(`/ledger/accounts/${id}?asOfVersion=0`)).status).toBe(404);
    expect((await get(`/ledger/accounts/acc_${crypto.randomUUID()}?asOfVersion=1`)).status).toBe(404);
    const past = await get(`/ledger/accounts/${id}?asOfVersion=1`);
    expect(past.status).toBe(200);
    expect(past.headers.get('etag')).toBeNull();
  });
});

describe('ledger time travel: bad queries are 400', () => {
  const cases: [string, string, string][] = [
    ['both at once', 'asOfVersion=1&asOf=2026-01-01T00:00:00Z', 'asOf'],
    ['a negative version', 'asOfVersion=-1', 'asOfVersion'],
    ['a fractional version', 'asOfVersion=1.5', 'asOfVersion'],
    ['a version that is a word', 'asOfVersion=two', 'asOfVersion'],
    ['an empty version', 'asOfVersion=', 'asOfVersion'],
    ['an unsafe version', 'asOfVersion=9007199254740993', 'asOfVersion'],
    ['a date that is a word', 'asOf=yesterday', 'asOf'],
    ['a date that does not exist', 'asOf=2026-02-30T00:00:00Z', 'asOf'],
    ['a date-time without a zone', 'asOf=2026-03-01T10:00:00', 'asOf'],
    ['epoch milliseconds', 'asOf=1767225600000', 'asOf'],
    ['an empty date', 'asOf=', 'asOf'],
  ];
  for (const [name, query, path] of cases) {
    it(name, async () => {
      const id = await openAccount(10);
      const response = await get(`/ledger/accounts/${id}?${query}`);
      expect(response.status).toBe(400);
      expect(((await response.json()) as { errors?: { path: string }[] }).errors?.map((e) => e.path)).toContain(path);
    });
  }
});
