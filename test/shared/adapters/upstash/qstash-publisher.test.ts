import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { qstashPublisher } from '../../../../shared/adapters/upstash/qstash-publisher';
import { fakeQStashApi, type FakeAnswer } from '../../support/fake-qstash-api';

let qstash: Awaited<ReturnType<typeof fakeQStashApi>>;
const received = () => qstash.received;
const answer = (next: FakeAnswer) => qstash.answerWith(next);

beforeAll(async () => {
  qstash = await fakeQStashApi(() => ({ status: 200, body: { messageId: 'msg_1' } }));
});
afterAll(() => qstash.close());
beforeEach(() => qstash.reset());

const TRACEPARENT = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
const body = JSON.stringify({ specversion: '1.0', id: 'evt_1', source: 'stratus/orders', type: 'order.completed', data: { orderId: 'ord_1' }, traceparent: TRACEPARENT });
const publisher = () => qstashPublisher({ url: qstash.url, token: 'tok_local' });

describe('qstashPublisher', () => {
  it('publishes to a topic as its URL group and returns one message id per endpoint', async () => {
    answer(() => ({ status: 200, body: [{ messageId: 'msg_a', url: 'http://x/hooks/a' }, { messageId: 'msg_b', url: 'http://x/hooks/b' }] }));

    const ids = await publisher().publish({ kind: 'topic', topic: 'order-events' }, body, { deduplicationId: 'evt_1' });

    expect(ids).toEqual(['msg_a', 'msg_b']);
    const [request] = received();
    expect(request).toMatchObject({ method: 'POST', path: '/v2/publish/order-events', body });
    expect(request?.headers).toMatchObject({
      authorization: 'Bearer tok_local',
      'content-type': 'application/cloudevents+json',
      'upstash-deduplication-id': 'evt_1',
      'upstash-forward-traceparent': TRACEPARENT,
    });
  });

  it('enqueues to a queue with the destination URL', async () => {
    const url = 'http://127.0.0.1:8787/hooks/mail';
    const ids = await publisher().publish({ kind: 'queue', queue: 'mail-transactional', url }, body, { deduplicationId: 'evt_2' });

    expect(ids).toEqual(['msg_1']);
    expect(received()[0]).toMatchObject({ method: 'POST', path: `/v2/enqueue/mail-transactional/${url}`, body });
    expect(received()[0]?.headers['upstash-deduplication-id']).toBe('evt_2');
  });

  it('publishes straight to a URL', async () => {
    const url = 'http://127.0.0.1:8787/hooks/catalog';
    expect(await publisher().publish({ kind: 'url', url }, body, { deduplicationId: 'evt_3' })).toEqual(['msg_1']);
    expect(received()[0]).toMatchObject({ path: `/v2/publish/${url}` });
  });

  it('forwards no traceparent when the event has none', async () => {
    await publisher().publish({ kind: 'url', url: 'http://127.0.0.1:8787/hooks/mail' }, JSON.stringify({ id: 'evt_4' }), { deduplicationId: 'evt_4' });
    expect(received()[0]?.headers['upstash-forward-traceparent']).toBeUndefined();
  });

  it('takes a single answer to a topic publish as one message', async () => {
    answer(() => ({ status: 202, body: { messageId: 'msg_first', deduplicated: true } }));
    expect(await publisher().publish({ kind: 'topic', topic: 'order-events' }, body, { deduplicationId: 'evt_1' })).toEqual(['msg_first']);
  });

  it('takes a duplicate answer (202) as published', async () => {
    answer(() => ({ status: 202, body: { messageId: 'msg_first', deduplicated: true } }));
    expect(await publisher().publish({ kind: 'url', url: 'http://127.0.0.1:8787/hooks/mail' }, body, { deduplicationId: 'evt_1' })).toEqual(['msg_first']);
  });

  it('rejects when QStash refuses, so the outbox keeps the row', async () => {
    answer(() => ({ status: 404, body: { error: 'url group not found' } }));
    await expect(publisher().publish({ kind: 'topic', topic: 'nope' }, body, { deduplicationId: 'evt_1' })).rejects.toThrow(/url group not found/);
    answer(() => ({ status: 500, body: { error: 'internal' } }));
    await expect(publisher().publish({ kind: 'topic', topic: 'order-events' }, body, { deduplicationId: 'evt_1' })).rejects.toThrow();
  });

  it('rejects at once when QStash cannot be reached (no client-side retries)', async () => {
    const unreachable = qstashPublisher({ url: 'http://127.0.0.1:9', token: 't' });
    await expect(unreachable.publish({ kind: 'topic', topic: 'order-events' }, body, { deduplicationId: 'evt_1' })).rejects.toThrow();
  });

  it('sends a batch as one POST /v2/batch, each kind of destination as publish sends it, one outcome per message', async () => {
    const url = 'http://127.0.0.1:8787/hooks/mail';
    answer(() => ({
      status: 200,
      body: [[{ messageId: 'msg_a', url: 'http://x/hooks/a' }, { messageId: 'msg_b', url: 'http://x/hooks/b' }], { error: 'queue not found' }, { messageId: 'msg_c' }],
    }));

    const outcomes = await publisher().publishBatch!([
      { destination: { kind: 'topic', topic: 'order-events' }, body, deduplicationId: 'evt_1' },
      { destination: { kind: 'queue', queue: 'mail-bulk', url }, body, deduplicationId: 'evt_2' },
      { destination: { kind: 'url', url }, body, deduplicationId: 'evt_3' },
    ]);

    expect(outcomes).toEqual([{ messageIds: ['msg_a', 'msg_b'] }, { error: 'QStash refused the message: queue not found' }, { messageIds: ['msg_c'] }]);
    expect(received()).toHaveLength(1);
    const [request] = received();
    expect(request).toMatchObject({ method: 'POST', path: '/v2/batch' });
    const items = JSON.parse(request!.body) as { destination: string; queue?: string; body: string; headers: Record<string, string> }[];
    expect(items.map((item) => [item.destination, item.queue])).toEqual([
      ['order-events', undefined],
      [url, 'mail-bulk'],
      [url, undefined],
    ]);
    for (const [index, item] of items.entries()) {
      expect(item.body).toBe(body);
      const headers = Object.fromEntries(Object.entries(item.headers).map(([key, value]) => [key.toLowerCase(), value]));
      expect(headers).toMatchObject({ 'upstash-deduplication-id': `evt_${index + 1}`, 'upstash-forward-traceparent': TRACEPARENT, 'content-type': 'application/cloudevents+json' });
    }
  });

  it('rejects a batch QStash refused as a whole, so the outbox keeps every row of it', async () => {
    answer(() => ({ status: 400, body: { error: 'invalid batch' } }));
    await expect(publisher().publishBatch!([{ destination: { kind: 'topic', topic: 'order-events' }, body, deduplicationId: 'evt_1' }])).rejects.toThrow(/invalid batch/);
  });
});
