import { afterEach, describe, expect, it, vi } from 'vitest';
import gateway from '../../../workers/gateway/index';
import { callWorker, json, testEnv } from '../../support/call-worker';

/**
 * `/_ops/dlq` redrive and delete, as they reach QStash's DLQ API through the official client. A
 * stand-in for QStash at https://qstash.test intercepts the global fetch the client uses (as the
 * cache tests do for Upstash Redis) and records what was asked; the local QStash's own DLQ retry
 * is tested from Node in test/scripts/qstash-filters.test.ts.
 */

const operator = { authorization: 'Bearer test-admin-token' };
const qstashEnv = testEnv({ QSTASH_URL: 'https://qstash.test', QSTASH_TOKEN: 'test-qstash-token' });

interface Call {
  method: string;
  path: string;
  query: URLSearchParams;
  authorization: string | null;
}

/** Dead letters held by the stand-in: id → topic; `pageSize` bounds one retry's answer (then a cursor). */
function fakeQstash(letters: Record<string, string>, { pageSize = 100, down = false } = {}) {
  const held = new Map(Object.entries(letters));
  const calls: Call[] = [];
  const realFetch = globalThis.fetch.bind(globalThis);
  vi.spyOn(globalThis, 'fetch').mockImplementation(async (input: RequestInfo | URL, init?: RequestInit) => {
    const request = new Request(input, init);
    const url = new URL(request.url);
    if (url.origin !== 'https://qstash.test') return realFetch(input, init);
    calls.push({ method: request.method, path: url.pathname, query: url.searchParams, authorization: request.headers.get('authorization') });
    if (down) return Response.json({ error: 'internal error' }, { status: 500 });
    if (request.method === 'POST' && url.pathname === '/v2/dlq/retry') {
      const ids = url.searchParams.getAll('dlqIds');
      const topic = url.searchParams.get('topicName');
      const chosen = [...held].filter(([id, t]) => (ids.length ? ids.includes(id) : topic === null || t === topic)).map(([id]) => id);
      const page = chosen.slice(0, pageSize);
      for (const id of page) held.delete(id);
      const more = chosen.length > page.length;
      return Response.json({ responses: page.map((id) => ({ messageId: `msg_${id}` })), cursor: more ? 'next' : '' });
    }
    if (request.method === 'DELETE' && url.pathname.startsWith('/v2/dlq/')) {
      const id = decodeURIComponent(url.pathname.slice('/v2/dlq/'.length));
      if (!held.delete(id)) return Response.json({ error: 'message not found' }, { status: 404 });
      return new Response(null, { status: 200 });
    }
    return Response.json({ error: 'not found' }, { status: 404 });
  });
  return { held, calls };
}

const retries = (calls: Call[]) => calls.filter((c) => c.method === 'POST' && c.path === '/v2/dlq/retry');

afterEach(() => {
  vi.restoreAllMocks();
});

describe('POST /_ops/dlq/:dlqId/redrive', () => {
  it("sends that one dead letter through QStash's DLQ retry with the QStash token, and answers the new message id", async () => {
    const qstash = fakeQstash({ dlq_1: 'order-events', dlq_2: 'order-events' });
    const response = await callWorker(gateway, '/_ops/dlq/dlq_1/redrive', { method: 'POST', headers: operator }, qstashEnv);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ redriven: 1, messageIds: ['msg_dlq_1'] });
    const [call, ...rest] = retries(qstash.calls);
    expect(rest).toEqual([]);
    expect(call?.query.getAll('dlqIds')).toEqual(['dlq_1']);
    expect(call?.authorization).toBe('Bearer test-qstash-token');
    expect([...qstash.held.keys()]).toEqual(['dlq_2']);
  });

  it('answers 404 problem+json for a dead letter QStash does not hold, and 502 when QStash fails', async () => {
    fakeQstash({ dlq_1: 'order-events' });
    const missing = await callWorker(gateway, '/_ops/dlq/dlq_9/redrive', { method: 'POST', headers: operator }, qstashEnv);
    expect(missing.status).toBe(404);
    expect(missing.headers.get('content-type')).toContain('application/problem+json');
    vi.restoreAllMocks();

    fakeQstash({ dlq_1: 'order-events' }, { down: true });
    const down = await callWorker(gateway, '/_ops/dlq/dlq_1/redrive', { method: 'POST', headers: operator }, qstashEnv);
    expect(down.status).toBe(502);
    expect(down.headers.get('content-type')).toContain('application/problem+json');
  });

  it('is refused without the admin token, and QStash is not called', async () => {
    const qstash = fakeQstash({ dlq_1: 'order-events' });
    const response = await callWorker(gateway, '/_ops/dlq/dlq_1/redrive', { method: 'POST' }, qstashEnv);
    expect(response.status).toBe(401);
    expect(qstash.calls).toEqual([]);
    expect(qstash.held.size).toBe(1);
  });
});

describe('POST /_ops/dlq/redrive', () => {
  it("redrives only the topic's dead letters (QStash's topicName filter), page by page until no cursor", async () => {
    const qstash = fakeQstash({ a: 'order-events', b: 'ledger-events', c: 'order-events', d: 'order-events' }, { pageSize: 2 });
    const response = await callWorker(gateway, '/_ops/dlq/redrive', json({ topic: 'order-events' }, operator), qstashEnv);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ redriven: 3, messageIds: ['msg_a', 'msg_c', 'msg_d'], more: false });
    const calls = retries(qstash.calls);
    expect(calls).toHaveLength(2);
    expect(calls.map((c) => c.query.get('topicName'))).toEqual(['order-events', 'order-events']);
    expect(calls[1]?.query.get('cursor')).toBe('next');
    expect([...qstash.held.keys()]).toEqual(['b']);
  });

  it('with {} redrives every dead letter, of any topic', async () => {
    const qstash = fakeQstash({ a: 'order-events', b: 'ledger-events' });
    const response = await callWorker(gateway, '/_ops/dlq/redrive', json({}, operator), qstashEnv);
    expect(await response.json()).toEqual({ redriven: 2, messageIds: ['msg_a', 'msg_b'], more: false });
    expect(retries(qstash.calls)[0]?.query.get('topicName')).toBeNull();
    expect(qstash.held.size).toBe(0);
  });

  it('refuses an unknown field with 400 problem+json and calls QStash not at all', async () => {
    const qstash = fakeQstash({ a: 'order-events' });
    const response = await callWorker(gateway, '/_ops/dlq/redrive', json({ topc: 'order-events' }, operator), qstashEnv);
    expect(response.status).toBe(400);
    expect(response.headers.get('content-type')).toContain('application/problem+json');
    expect(qstash.calls).toEqual([]);
    expect(qstash.held.size).toBe(1);
  });
});

describe('DELETE /_ops/dlq/:dlqId', () => {
  it('drops that dead letter (204), and answers 404 for one QStash does not hold', async () => {
    const qstash = fakeQstash({ dlq_1: 'order-events', dlq_2: 'order-events' });
    const deleted = await callWorker(gateway, '/_ops/dlq/dlq_1', { method: 'DELETE', headers: operator }, qstashEnv);
    expect(deleted.status).toBe(204);
    expect([...qstash.held.keys()]).toEqual(['dlq_2']);
    const again = await callWorker(gateway, '/_ops/dlq/dlq_1', { method: 'DELETE', headers: operator }, qstashEnv);
    expect(again.status).toBe(404);
  });
});
