import { describe, expect, it } from 'vitest';
import { isConcurrencyError, type EventStore } from '../../../shared/event-store/event-store';

/**
 * The promises every EventStore adapter keeps, run against each (memory, D1). `committing`
 * makes an `alsoCommit` statement whose effect `committed` can see; `failing` one that makes the
 * append's transaction fail.
 */
export interface EventStoreHarness<S> {
  /** A store over fresh, empty storage; `now` is its clock. */
  open(now: () => number): Promise<EventStore<S>>;
  committing(tag: string): S;
  committed(tag: string): Promise<boolean>;
  failing(): S;
}

const T0 = 1_700_000_000_000;

const deposited = (amountCents: number) => ({ type: 'deposited', data: { amountCents } });

/** Settles every promise, then sorts the outcomes. */
async function settle<T>(promises: Promise<T>[]) {
  const outcomes = await Promise.allSettled(promises);
  const wins = outcomes.flatMap((o) => (o.status === 'fulfilled' ? [o.value] : []));
  const errors = outcomes.flatMap((o) => (o.status === 'rejected' ? [o.reason as unknown] : []));
  return { wins, errors };
}

export function eventStoreContract<S>(name: string, harness: EventStoreHarness<S>) {
  describe(`${name} event store`, () => {
    let clock = T0;
    const open = () => {
      clock = T0;
      return harness.open(() => clock);
    };

    it('appends events and reads them back in version order, with their positions and time', async () => {
      const store = await open();
      const result = await store.appendToStream('acc-1', [{ type: 'opened', data: { owner: 'ada' }, metadata: { requestId: 'r1' } }, deposited(500)], {
        expectedVersion: 'no-stream',
      });

      expect(result).toEqual({ nextVersion: 2, globalPosition: 2 });
      expect(await store.readStream('acc-1')).toEqual([
        { streamId: 'acc-1', version: 1, type: 'opened', data: { owner: 'ada' }, metadata: { requestId: 'r1' }, globalPosition: 1, recordedAt: T0 },
        { streamId: 'acc-1', version: 2, type: 'deposited', data: { amountCents: 500 }, metadata: {}, globalPosition: 2, recordedAt: T0 },
      ]);
    });

    it('continues a stream from the expected version', async () => {
      const store = await open();
      await store.appendToStream('acc-1', [deposited(1)], { expectedVersion: 'no-stream' });
      clock = T0 + 1_000;

      const result = await store.appendToStream('acc-1', [deposited(2), deposited(3)], { expectedVersion: 1 });

      expect(result).toEqual({ nextVersion: 3, globalPosition: 3 });
      const stream = await store.readStream('acc-1');
      expect(stream.map((e) => [e.version, e.data, e.recordedAt])).toEqual([
        [1, { amountCents: 1 }, T0],
        [2, { amountCents: 2 }, T0 + 1_000],
        [3, { amountCents: 3 }, T0 + 1_000],
      ]);
    });

    it('reads an unknown stream as empty', async () => {
      const store = await open();
      expect(await store.readStream('nobody')).toEqual([]);
    });

    it('reads a stream forwards from a version, up to a version', async () => {
      const store = await open();
      await store.appendToStream('acc-1', [1, 2, 3, 4, 5].map(deposited), { expectedVersion: 'no-stream' });

      expect((await store.readStream('acc-1', { fromVersion: 3 })).map((e) => e.version)).toEqual([3, 4, 5]);
      expect((await store.readStream('acc-1', { toVersion: 2 })).map((e) => e.version)).toEqual([1, 2]);
      expect((await store.readStream('acc-1', { fromVersion: 2, toVersion: 4 })).map((e) => e.version)).toEqual([2, 3, 4]);
      expect(await store.readStream('acc-1', { fromVersion: 6 })).toEqual([]);
    });

    it('refuses a stale expected version with a ConcurrencyError and writes nothing', async () => {
      const store = await open();
      await store.appendToStream('acc-1', [deposited(1), deposited(2)], { expectedVersion: 'no-stream' });

      const error = await store.appendToStream('acc-1', [deposited(3), deposited(4)], { expectedVersion: 1, alsoCommit: [harness.committing('stale')] }).catch((e: unknown) => e);

      expect(isConcurrencyError(error)).toBe(true);
      expect(error).toMatchObject({ streamId: 'acc-1', expectedVersion: 1, actualVersion: 2 });
      expect((await store.readStream('acc-1')).map((e) => e.data)).toEqual([{ amountCents: 1 }, { amountCents: 2 }]);
      expect(await store.readAll({ limit: 10 })).toHaveLength(2);
      expect(await harness.committed('stale')).toBe(false);
    });

    it('refuses an expected version the stream never reached, leaving no gap', async () => {
      const store = await open();
      await store.appendToStream('acc-1', [deposited(1)], { expectedVersion: 'no-stream' });

      const error = await store.appendToStream('acc-1', [deposited(2)], { expectedVersion: 5 }).catch((e: unknown) => e);

      expect(error).toMatchObject({ isConcurrencyError: true, expectedVersion: 5, actualVersion: 1 });
      expect((await store.readStream('acc-1')).map((e) => e.version)).toEqual([1]);
      const missing = await store.appendToStream('nobody', [deposited(1)], { expectedVersion: 3 }).catch((e: unknown) => e);
      expect(missing).toMatchObject({ isConcurrencyError: true, actualVersion: 0 });
      expect(await store.readStream('nobody')).toEqual([]);
    });

    it("'no-stream' succeeds once and is a ConcurrencyError once the stream exists; 0 means the same", async () => {
      const store = await open();
      await store.appendToStream('acc-1', [deposited(1)], { expectedVersion: 'no-stream' });

      await expect(store.appendToStream('acc-1', [deposited(2)], { expectedVersion: 'no-stream' })).rejects.toMatchObject({
        isConcurrencyError: true,
        expectedVersion: 'no-stream',
        actualVersion: 1,
      });
      await expect(store.appendToStream('acc-1', [deposited(2)], { expectedVersion: 0 })).rejects.toMatchObject({ isConcurrencyError: true });
      expect(await store.appendToStream('acc-2', [deposited(2)], { expectedVersion: 0 })).toEqual({ nextVersion: 1, globalPosition: 2 });
    });

    it("'any' appends after whatever is there", async () => {
      const store = await open();
      expect(await store.appendToStream('acc-1', [deposited(1)], { expectedVersion: 'any' })).toEqual({ nextVersion: 1, globalPosition: 1 });
      expect(await store.appendToStream('acc-1', [deposited(2), deposited(3)], { expectedVersion: 'any' })).toEqual({ nextVersion: 3, globalPosition: 3 });
    });

    // 50 writes at once on one SQLite database: seconds on a busy CI machine, so its own limit.
    it('lets exactly one of 50 concurrent appends with the same expected version win', { timeout: 30_000 }, async () => {
      const store = await open();
      await store.appendToStream('acc-1', [deposited(100)], { expectedVersion: 'no-stream' });

      const { wins, errors } = await settle(
        Array.from({ length: 50 }, (_, i) => store.appendToStream('acc-1', [deposited(i + 1), deposited(1_000 + i)], { expectedVersion: 1 })),
      );

      expect(wins).toEqual([{ nextVersion: 3, globalPosition: 3 }]);
      expect(errors).toHaveLength(49);
      expect(errors.every(isConcurrencyError)).toBe(true);
      const stream = await store.readStream('acc-1');
      expect(stream.map((e) => e.version)).toEqual([1, 2, 3]);
      // The winner's two events, together.
      expect((stream[2]!.data as { amountCents: number }).amountCents - (stream[1]!.data as { amountCents: number }).amountCents).toBe(999);
    });

    it("keeps each 'any' append's events together when appends race on one stream", async () => {
      const store = await open();

      const { wins, errors } = await settle(
        Array.from({ length: 20 }, (_, i) =>
          store.appendToStream('acc-1', [0, 1, 2].map((j) => ({ type: 'deposited', data: { append: i, part: j } })), { expectedVersion: 'any' }),
        ),
      );

      expect(errors).toEqual([]);
      expect(wins.map((w) => w.nextVersion).sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, i) => 3 * (i + 1)));
      const stream = await store.readStream<{ type: 'deposited'; data: { append: number; part: number } }>('acc-1');
      expect(stream.map((e) => e.version)).toEqual(Array.from({ length: 60 }, (_, i) => i + 1));
      for (let v = 0; v < 60; v += 3) {
        const [a, b, c] = stream.slice(v, v + 3);
        expect([a!.data.part, b!.data.part, c!.data.part]).toEqual([0, 1, 2]);
        expect(new Set([a!.data.append, b!.data.append, c!.data.append]).size).toBe(1);
      }
    });

    it('numbers events in one global order across streams, in commit order', async () => {
      const store = await open();
      await store.appendToStream('acc-a', [deposited(1)], { expectedVersion: 'no-stream' });
      await store.appendToStream('acc-b', [deposited(2), deposited(3)], { expectedVersion: 'no-stream' });
      await store.appendToStream('acc-a', [deposited(4)], { expectedVersion: 1 });

      const all = await store.readAll({ limit: 100 });

      expect(all.map((e) => [e.globalPosition, e.streamId, e.version])).toEqual([
        [1, 'acc-a', 1],
        [2, 'acc-b', 1],
        [3, 'acc-b', 2],
        [4, 'acc-a', 2],
      ]);
    });

    it('pages through everything with readAll after the last position read', async () => {
      const store = await open();
      for (let i = 0; i < 7; i++) await store.appendToStream(`acc-${i % 3}`, [deposited(i)], { expectedVersion: 'any' });

      const pages: number[][] = [];
      for (let after = 0; ; ) {
        const page = await store.readAll({ after, limit: 3 });
        if (page.length === 0) break;
        pages.push(page.map((e) => (e.data as { amountCents: number }).amountCents));
        after = page[page.length - 1]!.globalPosition;
      }

      expect(pages).toEqual([[0, 1, 2], [3, 4, 5], [6]]);
      expect(await store.readAll({ after: 7, limit: 3 })).toEqual([]);
    });

    it('commits alsoCommit statements with the events', async () => {
      const store = await open();
      await store.appendToStream('acc-1', [deposited(1)], { expectedVersion: 'no-stream', alsoCommit: [harness.committing('outbox-1')] });

      expect(await harness.committed('outbox-1')).toBe(true);
      expect(await store.readStream('acc-1')).toHaveLength(1);
    });

    it('writes none of a multi-event append when a statement of its transaction fails, and that is no ConcurrencyError', async () => {
      const store = await open();
      await store.appendToStream('acc-1', [deposited(1)], { expectedVersion: 'no-stream' });

      const error = await store
        .appendToStream('acc-1', [deposited(2), deposited(3), deposited(4)], { expectedVersion: 1, alsoCommit: [harness.committing('before'), harness.failing()] })
        .catch((e: unknown) => e);

      expect(error).toBeInstanceOf(Error);
      expect(isConcurrencyError(error)).toBe(false);
      expect((await store.readStream('acc-1')).map((e) => e.version)).toEqual([1]);
      expect(await store.readAll({ limit: 10 })).toHaveLength(1);
      expect(await harness.committed('before')).toBe(false);
      // The positions the failed append would have taken are not lost.
      expect(await store.appendToStream('acc-1', [deposited(2)], { expectedVersion: 1 })).toEqual({ nextVersion: 2, globalPosition: 2 });
    });

    it('refuses arguments that cannot be appended or read', async () => {
      const store = await open();
      await expect(store.appendToStream('acc-1', [], { expectedVersion: 'any' })).rejects.toThrow(RangeError);
      await expect(store.appendToStream('', [deposited(1)], { expectedVersion: 'any' })).rejects.toThrow(TypeError);
      await expect(store.appendToStream('acc-1', [deposited(1)], { expectedVersion: -1 })).rejects.toThrow(RangeError);
      await expect(store.appendToStream('acc-1', [deposited(1)], { expectedVersion: 1.5 })).rejects.toThrow(RangeError);
      await expect(store.readAll({ limit: 0 })).rejects.toThrow(RangeError);
      expect(await store.readAll({ limit: 10 })).toEqual([]);
    });
  });
}
