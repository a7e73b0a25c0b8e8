import { describe, expect, it } from 'vitest';
import { timedPublisher, type TimedPublish } from '../../../shared/outbox/timed-publisher';

const event = JSON.stringify({ specversion: '1.0', id: 'e1', source: 'stratus/orders', type: 'order.completed' });

describe('timed publisher', () => {
  it('records each publish with the publishing service, the outcome and how long it took', async () => {
    const seen: TimedPublish[] = [];
    let clock = 0;
    const publisher = timedPublisher({ publish: async () => ((clock += 40), ['msg_1']) }, (p) => seen.push(p), () => clock);
    expect(await publisher.publish({ kind: 'topic', topic: 'order-events' }, event, { deduplicationId: 'e1' })).toEqual(['msg_1']);
    expect(seen).toEqual([{ from: 'orders', to: 'qstash', outcome: 'ok', durationMs: 40 }]);
  });

  it('rethrows a failure as it came, recorded as error or timeout', async () => {
    const seen: TimedPublish[] = [];
    const failing = (error: Error) => timedPublisher({ publish: async () => Promise.reject(error) }, (p) => seen.push(p));
    await expect(failing(new Error('HTTP 500')).publish({ kind: 'topic', topic: 't' }, 'not json', { deduplicationId: 'x' })).rejects.toThrow('HTTP 500');
    await expect(failing(new Error('publish did not answer within 10 ms')).publish({ kind: 'topic', topic: 't' }, event, { deduplicationId: 'y' })).rejects.toThrow();
    expect(seen.map(({ from, outcome }) => ({ from, outcome }))).toEqual([{ from: 'unknown', outcome: 'error' }, { from: 'orders', outcome: 'timeout' }]);
  });

  it('times a batch as one call to QStash, and keeps a publisher that cannot batch without publishBatch', async () => {
    const seen: TimedPublish[] = [];
    let clock = 0;
    const destination = { kind: 'topic', topic: 'order-events' } as const;
    const batching = timedPublisher(
      { publish: async () => ['m'], publishBatch: async (messages) => ((clock += 25), messages.map(() => ({ messageIds: ['m'] }))) },
      (p) => seen.push(p),
      () => clock,
    );
    const outcomes = await batching.publishBatch!([
      { destination, body: event, deduplicationId: 'e1' },
      { destination, body: event, deduplicationId: 'e2' },
    ]);
    expect(outcomes).toHaveLength(2);
    expect(seen).toEqual([{ from: 'orders', to: 'qstash', outcome: 'ok', durationMs: 25 }]);
    expect(timedPublisher({ publish: async () => ['m'] }, () => undefined).publishBatch).toBeUndefined();
  });
});

