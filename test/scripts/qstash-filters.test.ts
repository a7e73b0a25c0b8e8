import type { Client } from '@upstash/qstash';
import { describe, expect, it } from 'vitest';
import { raw, setup } from './qstash-test-kit';

// Bulk actions (cancel messages; list, delete and retry dead letters) with the official client:
// a filter field the endpoint does not know is a 400 that touches nothing, `count` limits what is
// touched, and several labels stay a list.

/** `n` messages to `url`, each dead-lettered on its first failure. */
async function deadLetters(client: Client, url: string, n: number, extra: { label?: string | string[] } = {}) {
  const ids: string[] = [];
  for (let i = 0; i < n; i++) ids.push((await client.publish({ url, body: `dead ${i}`, retries: 0, ...extra })).messageId);
  return ids;
}

const failing = () => ({ status: 500 });

describe('DLQ bulk actions', () => {
  it('a misspelled filter field is a 400 and the DLQ is untouched (it used to empty the DLQ and answer 200)', async () => {
    const { qstash, endpoint, client } = await setup({}, failing);
    await deadLetters(client, endpoint.url('/a'), 3);
    await qstash.waitForIdle();
    await expect(client.dlq.delete({ filter: { labeel: 'x' } } as never)).rejects.toMatchObject({ status: 400 });
    const wire = await raw(qstash, '/v2/dlq?urll=x', { method: 'DELETE' });
    expect(wire.status).toBe(400);
    expect(wire.json.error).toMatch(/unknown filter field "urll"/);
    // host and path filter message cancels only; the DLQ refuses them.
    expect((await raw(qstash, '/v2/dlq?host=127.0.0.1', { method: 'DELETE' })).status).toBe(400);
    expect((await raw(qstash, '/v2/dlq/retry?path=/a', { method: 'POST' })).status).toBe(400);
    expect((await client.dlq.listMessages()).messages).toHaveLength(3);
  });

  it('count limits a delete and a retry; the cursor walks the rest', async () => {
    const { qstash, endpoint, client } = await setup({}, failing);
    await deadLetters(client, endpoint.url('/a'), 5);
    await qstash.waitForIdle();
    const first = await client.dlq.delete({ all: true, count: 2 });
    expect(first.deleted).toBe(2);
    expect(first.cursor).toEqual(expect.any(String));
    const rest = await client.dlq.delete({ all: true, count: 2, cursor: first.cursor });
    expect(rest).toMatchObject({ deleted: 2, cursor: expect.any(String) });
    expect((await client.dlq.listMessages()).messages).toHaveLength(1);

    const retried = await client.dlq.retry({ all: true, count: 1 });
    expect(retried.responses).toHaveLength(1);
    expect(retried.cursor).toBeUndefined();
    await qstash.waitForIdle();
    // Retried from the DLQ: a new message, failing again, back in the DLQ with a new id.
    expect((await client.dlq.listMessages()).messages.map((m) => m.messageId)).toEqual([retried.responses[0]!.messageId]);
  });

  it('retry by filter (URL group, URL) redelivers only what matches, as new messages', async () => {
    let healthy = false;
    const { qstash, endpoint, client } = await setup({}, (delivery) => (healthy && delivery.path !== '/other' ? {} : { status: 500 }));
    await client.urlGroups.addEndpoints({ name: 'orders', endpoints: [{ url: endpoint.url('/grouped') }] });
    await client.publish({ urlGroup: 'orders', body: 'g', retries: 0 });
    await deadLetters(client, endpoint.url('/single'), 2);
    await deadLetters(client, endpoint.url('/other'), 1);
    await qstash.waitForIdle();
    healthy = true;

    const byGroup = await client.dlq.retry({ filter: { urlGroup: 'orders' } });
    expect(byGroup.responses).toHaveLength(1);
    const byUrl = await client.dlq.retry({ filter: { url: endpoint.url('/single') } });
    expect(byUrl.responses).toHaveLength(2);
    await qstash.waitForIdle();
    expect(endpoint.to('/grouped')).toHaveLength(2);
    expect(endpoint.to('/single')).toHaveLength(4);
    expect((await client.dlq.listMessages()).messages.map((m) => m.url)).toEqual([endpoint.url('/other')]);

    const one = (await client.dlq.listMessages()).messages[0]!;
    expect(await client.dlq.retry(one.dlqId)).toMatchObject({ responses: [{ messageId: expect.any(String) }] });
  });

  it('several labels stay a list: label is the first, labels all, and a filter on any of them finds the message', async () => {
    const { qstash, endpoint, client } = await setup({}, failing);
    const [both] = await deadLetters(client, endpoint.url('/labelled'), 1, { label: ['a', 'b'] });
    await deadLetters(client, endpoint.url('/labelled'), 1, { label: 'c' });
    await qstash.waitForIdle();
    const { messages } = await client.dlq.listMessages({ filter: { label: 'b' } });
    expect(messages).toEqual([expect.objectContaining({ messageId: both, label: 'a', labels: ['a', 'b'] })]);
    expect((await client.dlq.listMessages({ filter: { label: ['a', 'c'] } })).messages).toHaveLength(2);
    expect(await client.dlq.delete({ filter: { label: 'a' } })).toMatchObject({ deleted: 1 });
  });
});

describe('message cancel', () => {
  /** Messages held back an hour, so they are still pending when cancelled. */
  async function pending(client: Client, urls: string[], extra: { flowControlKey?: string } = {}) {
    const ids: string[] = [];
    for (const url of urls) {
      const flowControl = extra.flowControlKey ? { flowControl: { key: extra.flowControlKey, parallelism: 1 } } : {};
      ids.push((await client.publish({ url, body: 'later', delay: '1h', ...flowControl })).messageId);
    }
    return ids;
  }

  it('by host, path or flowControlKey cancels only what matches (it used to cancel every pending message)', async () => {
    const { qstash, endpoint, client } = await setup();
    await pending(client, [endpoint.url('/keep'), endpoint.url('/drop'), endpoint.url('/drop')]);
    await pending(client, ['http://other.invalid:9/keep'], { flowControlKey: 'tenant-1' });
    expect(await client.messages.cancel({ filter: { path: '/drop' } })).toEqual({ cancelled: 2 });
    expect(await client.messages.cancel({ filter: { host: 'nobody.invalid' } })).toEqual({ cancelled: 0 });
    expect(await client.messages.cancel({ filter: { flowControlKey: 'nobody' } })).toEqual({ cancelled: 0 });
    expect(await client.messages.cancel({ filter: { flowControlKey: 'tenant-1' } })).toEqual({ cancelled: 1 });
    expect(await client.messages.cancel({ filter: { host: 'other.invalid' } })).toEqual({ cancelled: 0 });
    expect(qstash.stats().pending).toBe(1);
    expect((await raw(qstash, '/v2/messages?hostt=x', { method: 'DELETE' })).status).toBe(400);
    expect(qstash.stats().pending).toBe(1);
  });

  it('count limits how many are cancelled', async () => {
    const { qstash, endpoint, client } = await setup();
    await pending(client, [endpoint.url('/a'), endpoint.url('/a'), endpoint.url('/a')]);
    expect(await client.messages.cancel({ all: true, count: 1 })).toEqual({ cancelled: 1 });
    expect(await client.messages.cancel({ filter: { url: endpoint.url('/a') }, count: 1 })).toEqual({ cancelled: 1 });
    expect(qstash.stats().pending).toBe(1);
    expect((await raw(qstash, '/v2/messages?count=0', { method: 'DELETE' })).status).toBe(400);
  });
});
