import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { qstashPublisher } from '../../../../shared/adapters/upstash/qstash-publisher';

interface Received {
  method: string;
  path: string;
  headers: IncomingMessage['headers'];
  body: string;
}

/** A stand-in for QStash's REST API that records what the official client sends. */
let server: Server;
let baseUrl: string;
const received: Received[] = [];
let answer: (request: Received) => { status: number; body: unknown } = () => ({ status: 200, body: { messageId: 'msg_1' } });

beforeAll(async () => {
  server = createServer((request, response) => {
    let body = '';
    request.setEncoding('utf8');
    request.on('data', (chunk: string) => (body += chunk));
    request.on('end', () => {
      const entry = { method: request.method ?? '', path: decodeURI(request.url ?? ''), headers: request.headers, body };
      received.push(entry);
      const { status, body: json } = answer(entry);
      response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(json));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));
beforeEach(() => {
  received.length = 0;
  answer = () => ({ status: 200, body: { messageId: 'msg_1' } });
});

const TRACEPARENT = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
const body = JSON.stringify({ specversion: '1.0', id: 'evt_1', source: 'stratus/orders', type: 'order.completed', data: { orderId: 'ord_1' }, traceparent: TRACEPARENT });
const publisher = () => qstashPublisher({ url: baseUrl, token: 'tok_local' });

describe('qstashPublisher', () => {
  it('publishes to a topic as its URL group and returns one message id per endpoint', async () => {
    answer = () => ({ status: 200, body: [{ messageId: 'msg_a', url: 'http://x/hooks/a' }, { messageId: 'msg_b', url: 'http://x/hooks/b' }] });

    const ids = await publisher().publish({ kind: 'topic', topic: 'order-events' }, body, { deduplicationId: 'evt_1' });

    expect(ids).toEqual(['msg_a', 'msg_b']);
    const [request] = received;
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
    expect(received[0]).toMatchObject({ method: 'POST', path: `/v2/enqueue/mail-transactional/${url}`, body });
    expect(received[0]?.headers['upstash-deduplication-id']).toBe('evt_2');
  });

  it('publishes straight to a URL', async () => {
    const url = 'http://127.0.0.1:8787/hooks/catalog';
    expect(await publisher().publish({ kind: 'url', url }, body, { deduplicationId: 'evt_3' })).toEqual(['msg_1']);
    expect(received[0]).toMatchObject({ path: `/v2/publish/${url}` });
  });

  it('forwards no traceparent when the event has none', async () => {
    await publisher().publish({ kind: 'url', url: 'http://127.0.0.1:8787/hooks/mail' }, JSON.stringify({ id: 'evt_4' }), { deduplicationId: 'evt_4' });
    expect(received[0]?.headers['upstash-forward-traceparent']).toBeUndefined();
  });

  it('takes a single answer to a topic publish as one message', async () => {
    answer = () => ({ status: 202, body: { messageId: 'msg_first', deduplicated: true } });
    expect(await publisher().publish({ kind: 'topic', topic: 'order-events' }, body, { deduplicationId: 'evt_1' })).toEqual(['msg_first']);
  });

  it('takes a duplicate answer (202) as published', async () => {
    answer = () => ({ status: 202, body: { messageId: 'msg_first', deduplicated: true } });
    expect(await publisher().publish({ kind: 'url', url: 'http://127.0.0.1:8787/hooks/mail' }, body, { deduplicationId: 'evt_1' })).toEqual(['msg_first']);
  });

  it('rejects when QStash refuses, so the outbox keeps the row', async () => {
    answer = () => ({ status: 404, body: { error: 'url group not found' } });
    await expect(publisher().publish({ kind: 'topic', topic: 'nope' }, body, { deduplicationId: 'evt_1' })).rejects.toThrow(/url group not found/);
    answer = () => ({ status: 500, body: { error: 'internal' } });
    await expect(publisher().publish({ kind: 'topic', topic: 'order-events' }, body, { deduplicationId: 'evt_1' })).rejects.toThrow();
  });

  it('rejects at once when QStash cannot be reached (no client-side retries)', async () => {
    const unreachable = qstashPublisher({ url: 'http://127.0.0.1:9', token: 't' });
    await expect(unreachable.publish({ kind: 'topic', topic: 'order-events' }, body, { deduplicationId: 'evt_1' })).rejects.toThrow();
  });
});
