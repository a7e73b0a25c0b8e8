import { describe, expect, it } from 'vitest';
import { dispatchOutbox, exponentialBackoff } from '../../../shared/outbox/dispatcher';
import type { BatchMessage, BatchOutcome, EventPublisher, OutboxDestination } from '../../../shared/outbox/outbox-message';
import { MemoryOutbox } from '../support/memory-outbox';

const T0 = 1_700_000_000_000;
const topic: OutboxDestination = { kind: 'topic', topic: 'order-events' };
const queue: OutboxDestination = { kind: 'queue', queue: 'mail-bulk', url: 'http://127.0.0.1:8787/hooks/mail' };

interface Publish {
  destination: OutboxDestination;
  body: string;
  deduplicationId: string;
}

/** A publisher that records every publish and answers with `answer` (which may throw). */
function recordingPublisher(answer: (publish: Publish, call: number) => Promise<string[]> | string[] = (p) => [`msg_${p.deduplicationId}`]) {
  const calls: Publish[] = [];
  const publisher: EventPublisher = {
    async publish(destination, body, { deduplicationId }) {
      const publish = { destination, body, deduplicationId };
      calls.push(publish);
      return answer(publish, calls.length);
    },
  };
  return { publisher, calls };
}

/**
 * A publisher that batches: records each batch request (a list of event ids) and answers each
 * message with `answer` (which may throw for the whole request).
 */
function batchingPublisher(answer: (batch: BatchMessage[]) => Promise<BatchOutcome[]> | BatchOutcome[] = (batch) => batch.map((m) => ({ messageIds: [`msg_${m.deduplicationId}`] }))) {
  const batches: string[][] = [];
  const single: string[] = [];
  const publisher: EventPublisher = {
    async publish(_destination, _body, { deduplicationId }) {
      single.push(deduplicationId);
      return [`msg_${deduplicationId}`];
    },
    async publishBatch(messages) {
      batches.push(messages.map((m) => m.deduplicationId));
      return answer(messages);
    },
  };
  return { publisher, batches, single };
}

/** A clock the test (or a fake publisher) moves. */
function clock(start = T0) {
  let now = start;
  return { now: () => now, advance: (ms: number) => (now += ms) };
}

describe('dispatchOutbox', () => {
  it('publishes every due row and marks it sent with the broker message ids', async () => {
    const store = new MemoryOutbox();
    store.add('evt_1', topic, T0);
    store.add('evt_2', queue, T0);
    const { publisher, calls } = recordingPublisher((p) => (p.destination.kind === 'topic' ? ['m_a', 'm_b'] : ['m_c']));

    const result = await dispatchOutbox(store, publisher, { now: () => T0 + 5 });

    expect(result).toEqual({ sent: 2, failed: 0, parked: 0, pending: 0 });
    expect(calls.map((call) => call.destination)).toEqual([topic, queue]);
    expect(store.row('evt_1')).toMatchObject({ sentAt: T0 + 5, messageIds: ['m_a', 'm_b'], claimedBy: null });
    expect(store.row('evt_2')).toMatchObject({ sentAt: T0 + 5, messageIds: ['m_c'] });
  });

  it('publishes the stored body byte for byte, with the event id as the deduplication id', async () => {
    const store = new MemoryOutbox();
    const body = '{"specversion":"1.0","id":"evt_9","data":{"b":1,"a":2}}';
    store.add('evt_9', topic, T0, body);
    const { publisher, calls } = recordingPublisher();

    await dispatchOutbox(store, publisher, { now: () => T0 });

    expect(calls).toEqual([{ destination: topic, body, deduplicationId: 'evt_9' }]);
  });

  it('keeps a row whose publish failed: pending, attempts + 1, the error, a later next attempt', async () => {
    const store = new MemoryOutbox();
    store.add('evt_1', topic, T0);
    const { publisher } = recordingPublisher(() => {
      throw new Error('QStash answered 503');
    });

    const result = await dispatchOutbox(store, publisher, { now: () => T0, backoff: exponentialBackoff({ baseMs: 1_000 }) });

    expect(result).toEqual({ sent: 0, failed: 1, parked: 0, pending: 1, nextAttemptAt: T0 + 1_000 });
    expect(store.row('evt_1')).toMatchObject({ sentAt: null, attempts: 1, lastError: 'Error: QStash answered 503', nextAttemptAt: T0 + 1_000, claimedBy: null });
  });

  it('parks a row as dead after maxAttempts failures: never claimed again, counted apart from pending', async () => {
    const store = new MemoryOutbox();
    store.add('evt_1', topic, T0);
    const { publisher, calls } = recordingPublisher(() => {
      throw new Error('QStash answered 404: topic not found');
    });
    const time = clock();
    const backoff = exponentialBackoff({ baseMs: 1_000 });

    expect(await dispatchOutbox(store, publisher, { now: time.now, backoff, maxAttempts: 2 })).toMatchObject({ failed: 1, parked: 0, pending: 1 });
    time.advance(1_000);
    expect(await dispatchOutbox(store, publisher, { now: time.now, backoff, maxAttempts: 2 })).toEqual({ sent: 0, failed: 1, parked: 1, pending: 0 });
    expect(store.row('evt_1')).toMatchObject({ sentAt: null, attempts: 2, deadAt: T0 + 1_000 });
    expect(await store.summary()).toMatchObject({ pending: 0, dead: 1 });

    time.advance(3_600_000);
    await dispatchOutbox(store, publisher, { now: time.now, backoff, maxAttempts: 2 });
    expect(calls).toHaveLength(2);
  });

  it('does not retry a failed row before its next attempt, and publishes it once due', async () => {
    const store = new MemoryOutbox();
    store.add('evt_1', topic, T0);
    let failing = true;
    const { publisher, calls } = recordingPublisher(() => {
      if (failing) throw new Error('down');
      return ['m_1'];
    });
    const time = clock();
    const backoff = exponentialBackoff({ baseMs: 1_000 });

    await dispatchOutbox(store, publisher, { now: time.now, backoff });
    time.advance(999);
    expect(await dispatchOutbox(store, publisher, { now: time.now, backoff })).toEqual({ sent: 0, failed: 0, parked: 0, pending: 1, nextAttemptAt: T0 + 1_000 });
    expect(calls).toHaveLength(1);

    failing = false;
    time.advance(1);
    expect(await dispatchOutbox(store, publisher, { now: time.now, backoff })).toEqual({ sent: 1, failed: 0, parked: 0, pending: 0 });
    expect(calls.map((call) => call.deduplicationId)).toEqual(['evt_1', 'evt_1']);
    expect(store.row('evt_1')).toMatchObject({ attempts: 1, sentAt: T0 + 1_000, messageIds: ['m_1'] });
  });

  it('backs off exponentially per failure, up to the cap', async () => {
    const store = new MemoryOutbox();
    store.add('evt_1', topic, T0);
    const { publisher } = recordingPublisher(() => {
      throw new Error('down');
    });
    const time = clock();
    const backoff = exponentialBackoff({ baseMs: 1_000, maxMs: 5_000 });
    const waits: number[] = [];
    for (let run = 0; run < 5; run++) {
      await dispatchOutbox(store, publisher, { now: time.now, backoff });
      const row = store.row('evt_1');
      waits.push(row.nextAttemptAt - time.now());
      time.advance(row.nextAttemptAt - time.now());
    }
    expect(waits).toEqual([1_000, 2_000, 4_000, 5_000, 5_000]);
    expect(store.row('evt_1')).toMatchObject({ attempts: 5, sentAt: null });
  });

  it('claims no more rows than the limit and reports the rest as due now', async () => {
    const store = new MemoryOutbox();
    for (let i = 1; i <= 5; i++) store.add(`evt_${i}`, topic, T0 + i);
    const { publisher, calls } = recordingPublisher();

    const result = await dispatchOutbox(store, publisher, { now: () => T0 + 10, limit: 2 });

    expect(result).toEqual({ sent: 2, failed: 0, parked: 0, pending: 3, nextAttemptAt: T0 + 3 });
    // Oldest first.
    expect(calls.map((call) => call.deduplicationId)).toEqual(['evt_1', 'evt_2']);
  });

  it('never publishes a row two concurrent dispatchers both see', async () => {
    const store = new MemoryOutbox();
    for (let i = 1; i <= 6; i++) store.add(`evt_${i}`, topic, T0);
    // The first publish waits until the second dispatcher has claimed, so the two runs overlap.
    let releaseFirst: () => void = () => {};
    const firstHeld = new Promise<void>((resolve) => (releaseFirst = resolve));
    const { publisher, calls } = recordingPublisher(async (_, call) => {
      if (call === 1) await firstHeld;
      return [`m_${call}`];
    });

    const first = dispatchOutbox(store, publisher, { now: () => T0, limit: 3 });
    const second = dispatchOutbox(store, publisher, { now: () => T0, limit: 10 });
    const secondResult = await second;
    releaseFirst();
    const firstResult = await first;

    expect(firstResult.sent + secondResult.sent).toBe(6);
    expect(secondResult.sent).toBe(3);
    const published = calls.map((call) => call.deduplicationId).sort();
    expect(published).toEqual(['evt_1', 'evt_2', 'evt_3', 'evt_4', 'evt_5', 'evt_6']);
  });

  it('skips a row another dispatcher holds until its claim ends', async () => {
    const store = new MemoryOutbox();
    const row = store.add('evt_1', topic, T0);
    Object.assign(row, { claimedBy: 'other', claimedUntil: T0 + 60_000 });
    const { publisher, calls } = recordingPublisher();

    expect(await dispatchOutbox(store, publisher, { now: () => T0 + 1 })).toEqual({ sent: 0, failed: 0, parked: 0, pending: 1, nextAttemptAt: T0 + 60_000 });
    expect(calls).toHaveLength(0);
    // The other dispatcher died: once its claim lapses the row is published (same dedup id).
    expect(await dispatchOutbox(store, publisher, { now: () => T0 + 60_000 })).toMatchObject({ sent: 1, pending: 0 });
  });

  it('stops before its claim could lapse mid-publish, leaving the rest claimed until the lease ends', async () => {
    const store = new MemoryOutbox();
    for (let i = 1; i <= 5; i++) store.add(`evt_${i}`, topic, T0);
    const time = clock();
    // Each publish takes 10 s of the 40 s lease; one needs 10 s + 5 s margin left to start.
    const { publisher } = recordingPublisher(() => {
      time.advance(10_000);
      return ['m'];
    });

    const result = await dispatchOutbox(store, publisher, { now: time.now, leaseMs: 40_000, publishTimeoutMs: 10_000 });

    expect(result).toEqual({ sent: 3, failed: 0, parked: 0, pending: 2, nextAttemptAt: T0 + 40_000 });
    expect(store.row('evt_4')).toMatchObject({ attempts: 0, claimedUntil: T0 + 40_000 });
  });

  it('refuses a lease too short for one publish', async () => {
    await expect(dispatchOutbox(new MemoryOutbox(), recordingPublisher().publisher, { leaseMs: 10_000, publishTimeoutMs: 10_000 })).rejects.toThrow(RangeError);
  });

  it('gives up on a publish that does not answer in time, keeping the row', async () => {
    const store = new MemoryOutbox();
    store.add('evt_1', topic, T0);
    const { publisher } = recordingPublisher(() => new Promise<string[]>(() => {}));

    const result = await dispatchOutbox(store, publisher, { now: () => T0, publishTimeoutMs: 20, leaseMs: 10_000 });

    expect(result).toMatchObject({ sent: 0, failed: 1, pending: 1 });
    expect(store.row('evt_1').lastError).toBe('PublishTimeout: publish did not answer within 20 ms');
  });

  it('records an unreadable destination as a failure and keeps the row', async () => {
    const store = new MemoryOutbox();
    store.add('evt_1', '{"kind":"carrier-pigeon"}', T0);
    const { publisher, calls } = recordingPublisher();

    expect(await dispatchOutbox(store, publisher, { now: () => T0 })).toMatchObject({ sent: 0, failed: 1, pending: 1 });
    expect(calls).toHaveLength(0);
    expect(store.row('evt_1').lastError).toContain('unreadable destination');
  });

  it('fails the run when a publish cannot be recorded, and republishes the row under the same id later', async () => {
    const store = new MemoryOutbox();
    store.add('evt_1', topic, T0);
    store.failNextMarkSent = true;
    const { publisher, calls } = recordingPublisher();

    await expect(dispatchOutbox(store, publisher, { now: () => T0, leaseMs: 60_000 })).rejects.toThrow('database unavailable');
    expect(store.row('evt_1')).toMatchObject({ sentAt: null, attempts: 0 });

    // After the dead run's claim lapses, the row goes out again; the broker drops it by its id.
    expect(await dispatchOutbox(store, publisher, { now: () => T0 + 60_000 })).toMatchObject({ sent: 1, pending: 0 });
    expect(calls.map((call) => call.deduplicationId)).toEqual(['evt_1', 'evt_1']);
  });

  it('does nothing on an empty outbox', async () => {
    const { publisher, calls } = recordingPublisher();
    expect(await dispatchOutbox(new MemoryOutbox(), publisher)).toEqual({ sent: 0, failed: 0, parked: 0, pending: 0 });
    expect(calls).toHaveLength(0);
  });
});

describe('dispatchOutbox with a publisher that batches', () => {
  const addRows = (store: MemoryOutbox, n: number) => {
    for (let i = 1; i <= n; i++) store.add(`evt_${String(i).padStart(2, '0')}`, i % 2 ? topic : queue, T0 + i);
  };

  it('sends the claimed rows oldest first in batches of batchSize, one write per batch', async () => {
    const store = new MemoryOutbox();
    addRows(store, 60);
    const { publisher, batches, single } = batchingPublisher();

    const result = await dispatchOutbox(store, publisher, { now: () => T0 + 100, limit: 60, batchSize: 25 });

    expect(result).toEqual({ sent: 60, failed: 0, parked: 0, pending: 0 });
    expect(batches.map((batch) => batch.length)).toEqual([25, 25, 10]);
    expect(batches.flat()).toEqual([...store.rows.keys()].sort());
    expect(single).toEqual([]);
    expect(store.markSentCalls).toBe(3);
    expect(store.row('evt_07')).toMatchObject({ sentAt: T0 + 100, messageIds: ['msg_evt_07'], claimedBy: null });
  });

  it('fails only the message the broker refused; the rest of its batch is sent', async () => {
    const store = new MemoryOutbox();
    addRows(store, 3);
    const { publisher } = batchingPublisher((batch) => batch.map((m) => (m.deduplicationId === 'evt_02' ? { error: 'QStash refused the message: queue not found' } : { messageIds: ['m'] })));

    const result = await dispatchOutbox(store, publisher, { now: () => T0 + 100, backoff: () => 1_000 });

    expect(result).toEqual({ sent: 2, failed: 1, parked: 0, pending: 1, nextAttemptAt: T0 + 1_100 });
    expect(store.row('evt_02')).toMatchObject({ sentAt: null, attempts: 1, lastError: 'QStash refused the message: queue not found' });
    expect(store.row('evt_03').sentAt).toBe(T0 + 100);
  });

  it('keeps every row of a batch request that failed as a whole, or answered the wrong number of outcomes', async () => {
    for (const answer of [
      () => {
        throw new Error('QStash answered 500');
      },
      () => [{ messageIds: ['m'] }],
    ]) {
      const store = new MemoryOutbox();
      addRows(store, 3);
      const { publisher } = batchingPublisher(answer);

      expect(await dispatchOutbox(store, publisher, { now: () => T0 + 100 })).toMatchObject({ sent: 0, failed: 3, pending: 3 });
      expect([...store.rows.values()].map((row) => [row.sentAt, row.attempts])).toEqual([
        [null, 1],
        [null, 1],
        [null, 1],
      ]);
      expect(store.markSentCalls).toBe(0);
    }
  });

  it('gives up on a batch that does not answer in time, keeping its rows', async () => {
    const store = new MemoryOutbox();
    addRows(store, 2);
    const { publisher } = batchingPublisher(() => new Promise<BatchOutcome[]>(() => {}));

    expect(await dispatchOutbox(store, publisher, { now: () => T0 + 100, publishTimeoutMs: 20, leaseMs: 10_000 })).toMatchObject({ sent: 0, failed: 2 });
    expect(store.row('evt_01').lastError).toBe('PublishTimeout: publish did not answer within 20 ms');
  });

  it('keeps an unreadable row out of the batch and fails it alone', async () => {
    const store = new MemoryOutbox();
    addRows(store, 2);
    store.add('evt_bad', '{"kind":"carrier-pigeon"}', T0 + 50);
    const { publisher, batches } = batchingPublisher();

    expect(await dispatchOutbox(store, publisher, { now: () => T0 + 100 })).toMatchObject({ sent: 2, failed: 1 });
    expect(batches).toEqual([['evt_01', 'evt_02']]);
    expect(store.row('evt_bad').lastError).toContain('unreadable destination');
  });

  it('stops before its claim could lapse mid-batch, leaving the rest claimed until the lease ends', async () => {
    const store = new MemoryOutbox();
    addRows(store, 10);
    const time = clock(T0 + 100);
    const { publisher, batches } = batchingPublisher((batch) => {
      time.advance(10_000);
      return batch.map(() => ({ messageIds: ['m'] }));
    });

    const result = await dispatchOutbox(store, publisher, { now: time.now, leaseMs: 40_000, publishTimeoutMs: 10_000, batchSize: 3 });

    expect(batches.map((batch) => batch.length)).toEqual([3, 3, 3]);
    expect(result).toMatchObject({ sent: 9, pending: 1 });
    expect(store.row('evt_10')).toMatchObject({ attempts: 0, claimedUntil: T0 + 100 + 40_000 });
  });
});

describe('exponentialBackoff', () => {
  it('doubles from the base and stops at the cap', () => {
    const backoff = exponentialBackoff({ baseMs: 100, maxMs: 1_000 });
    expect([1, 2, 3, 4, 5, 50].map(backoff)).toEqual([100, 200, 400, 800, 1_000, 1_000]);
  });

  it('jitters within [0, delay] when given randomness', () => {
    const backoff = exponentialBackoff({ baseMs: 100, random: () => 0.5 });
    expect(backoff(3)).toBe(200);
  });
});
