import { Client, QstashError } from '@upstash/qstash';
import { decodeJwt } from 'jose';
import { describe, expect, it } from 'vitest';
import { compileRetryDelay, defaultBackoffMs, parseDuration } from '../../scripts/qstash/timing.mjs';
import { seededRandom } from '../../scripts/qstash-server.mjs';
import { desiredEndpoints, readTopology, setupQStash } from '../../scripts/qstash-setup.mjs';
import { header, keysOf, raw, setup, verify } from './qstash-test-kit';

// The local QStash driven by the official @upstash/qstash Client and verified with its Receiver,
// delivering to a small HTTP endpoint on loopback. Time is scaled down (retryDelayScale,
// delayScale) so QStash's real backoff runs in milliseconds; "done" is the server's own
// waitForIdle, never a sleep.

describe('QStash timing rules', () => {
  it("default backoff is min(1 day, e^(2.5 n)) seconds: 12 s, 2 m 28 s, 30 m 8 s, then a day", () => {
    expect(Math.round(defaultBackoffMs(1) / 1000)).toBe(12);
    expect(Math.round(defaultBackoffMs(2) / 1000)).toBe(148);
    expect(Math.round(defaultBackoffMs(3) / 1000)).toBe(1808);
    expect(defaultBackoffMs(5)).toBe(86_400_000);
    expect(defaultBackoffMs(50)).toBe(86_400_000);
  });

  it('Upstash-Retry-Delay expressions, and durations', () => {
    expect([0, 1, 2].map(compileRetryDelay('1000 * (1 + retried)'))).toEqual([1000, 2000, 3000]);
    expect([0, 3].map(compileRetryDelay('pow(2, retried) * 1000'))).toEqual([1000, 8000]);
    expect(compileRetryDelay('max(1000, min(5000, 10 * -(-retried)))')(700)).toBe(5000);
    expect(() => compileRetryDelay('retried; process.exit()')).toThrow(/unexpected/);
    expect(() => compileRetryDelay('eval(1)')).toThrow(/unknown name "eval"/);
    expect(() => compileRetryDelay('pow(2)')).toThrow(/2 arguments/);
    expect([parseDuration('50s'), parseDuration('3m'), parseDuration('10h'), parseDuration('1d'), parseDuration('0s')]).toEqual([50_000, 180_000, 36_000_000, 86_400_000, 0]);
    // Only the documented forms: a whole number and one of s, m, h, d.
    for (const undocumented of ['500ms', '1.5s', '1h30m', '7', '10S', '-1s', '1w', 'soon']) expect(parseDuration(undocumented)).toBeUndefined();
  });
});

describe('local QStash server with the official client and Receiver', () => {
  it('publishes to a URL; the delivery carries QStash headers and a signature the Receiver accepts', async () => {
    const { qstash, endpoint, client } = await setup();
    const url = endpoint.url('/hooks/a');
    const body = JSON.stringify({ hello: 'world', n: 1 });
    const published = await client.publish({ url, body, headers: { 'content-type': 'application/json', 'x-trace-id': 'trace-1' } });
    expect(published).toEqual({ messageId: expect.stringMatching(/^msg_/), url });
    await qstash.waitForIdle();

    const [delivery] = endpoint.deliveries;
    expect(endpoint.deliveries).toHaveLength(1);
    expect(delivery!.method).toBe('POST');
    expect(delivery!.body).toBe(body);
    expect(header(delivery, 'user-agent')).toBe('Upstash-QStash');
    expect(header(delivery, 'upstash-message-id')).toBe(published.messageId);
    expect(header(delivery, 'upstash-retried')).toBe('0');
    expect(header(delivery, 'upstash-topic-name')).toBeUndefined();
    // Forwarded headers arrive without their Upstash-Forward- prefix; the publisher's token never does.
    expect(header(delivery, 'content-type')).toBe('application/json');
    expect(header(delivery, 'x-trace-id')).toBe('trace-1');
    expect(Object.keys(delivery!.headers).filter((h) => h.startsWith('upstash-forward-') || h === 'authorization')).toEqual([]);

    await expect(verify(keysOf(qstash), delivery!, url)).resolves.toBe(true);
    const claims = decodeJwt(header(delivery, 'upstash-signature')!);
    expect(claims).toMatchObject({ iss: 'Upstash', sub: url, jti: expect.stringMatching(/^jwt_/) });
    expect(claims.exp! - claims.iat!).toBe(300);
    expect(claims.nbf).toBe(claims.iat);
    expect(qstash.stats()).toMatchObject({ published: 1, delivered: 1, retried: 0, dlq: 0, pending: 0, inFlight: 0 });
  });

  it('routeOrigin: deliveries to a named origin reach the server that bound port 0, signed for the URL as published', async () => {
    const { qstash, endpoint, client } = await setup();
    const published = 'http://gateway.test.invalid/hooks/routed?x=1';
    qstash.routeOrigin('http://gateway.test.invalid', endpoint.url('/'));
    await client.publish({ url: published, body: 'routed' });
    await qstash.waitForIdle();
    expect(endpoint.to('/hooks/routed?x=1')).toHaveLength(1);
    await expect(verify(keysOf(qstash), endpoint.deliveries[0]!, published)).resolves.toBe(true);
    expect(qstash.stats()).toMatchObject({ delivered: 1, failedAttempts: 0 });
  });

  it('the Receiver refuses a tampered body, another URL and a foreign key', async () => {
    const { qstash, endpoint, client } = await setup();
    const url = endpoint.url('/hooks/b');
    await client.publish({ url, body: '{"amountCents":100}' });
    await qstash.waitForIdle();
    const [delivery] = endpoint.deliveries;
    await expect(verify(keysOf(qstash), delivery!, url, '{"amountCents":999}')).rejects.toThrow(/body hash does not match/);
    await expect(verify(keysOf(qstash), delivery!, endpoint.url('/hooks/other'))).rejects.toThrow(/invalid subject/);
    await expect(verify({ current: 'sig_wrong_1', next: 'sig_wrong_2' }, delivery!, url)).rejects.toThrow(/signature/i);
  });

  it('keys: GET /v2/keys, and after a rotation deliveries verify with the previous next key', async () => {
    const { qstash, endpoint, client } = await setup();
    const before = keysOf(qstash);
    expect(await raw(qstash, '/v2/keys')).toEqual({ status: 200, json: before });
    const rotated = await raw(qstash, '/v2/keys/rotate', { method: 'POST' });
    expect(rotated.json.current).toBe(before.next);
    expect(rotated.json.next).toMatch(/^sig_/);
    expect(rotated.json.next).not.toBe(before.next);
    expect(keysOf(qstash)).toEqual(rotated.json);

    const url = endpoint.url('/hooks/rotated');
    await client.publish({ url, body: 'after rotation' });
    await qstash.waitForIdle();
    const [delivery] = endpoint.deliveries;
    // A consumer still holding the old pair verifies with its next key...
    await expect(verify(before, delivery!, url)).resolves.toBe(true);
    // ...and only with it: the old current key alone does not verify.
    await expect(verify({ current: before.current, next: before.current }, delivery!, url)).rejects.toThrow();
  });

  it('deduplication: the same Upstash-Deduplication-Id (or content) is accepted with 202 and the first id, delivered once', async () => {
    const { qstash, endpoint, client } = await setup();
    const url = endpoint.url('/hooks/dedup');
    const first = await client.publish({ url, body: 'one', deduplicationId: 'event-1' });
    const again = await client.publish({ url, body: 'one, retried by the publisher', deduplicationId: 'event-1' });
    expect(again).toEqual({ messageId: first.messageId, url, deduplicated: true });
    const wire = await raw(qstash, `/v2/publish/${url}`, { method: 'POST', body: 'x', headers: { 'upstash-deduplication-id': 'event-1' } });
    expect(wire).toEqual({ status: 202, json: { messageId: first.messageId, url, deduplicated: true } });

    const a = await client.publish({ url, body: 'same content', contentBasedDeduplication: true });
    const b = await client.publish({ url, body: 'same content', contentBasedDeduplication: true });
    const c = await client.publish({ url, body: 'other content', contentBasedDeduplication: true });
    expect(b.messageId).toBe(a.messageId);
    expect(c.messageId).not.toBe(a.messageId);
    await qstash.waitForIdle();
    expect(endpoint.deliveries.map((d) => d.body).sort()).toEqual(['one', 'other content', 'same content']);
  });

  it('Upstash-Delay holds a message back (scaled by delayScale); Upstash-Not-Before is an absolute time', async () => {
    const { qstash, endpoint, client } = await setup({ delayScale: 0.01 });
    const url = endpoint.url('/hooks/delayed');
    const start = Date.now();
    const { messageId } = await client.publish({ url, body: 'later', delay: '20s' }); // 200 ms scaled
    const pending = await client.messages.get(messageId);
    expect(pending.notBefore! - pending.createdAt).toBe(200);
    expect(qstash.stats().pending).toBe(1);
    await qstash.waitForIdle();
    expect(endpoint.deliveries[0]!.at - start).toBeGreaterThanOrEqual(195);

    const notBefore = Math.floor(Date.now() / 1000) + 1;
    await client.publish({ url, body: 'at a time', notBefore });
    await qstash.waitForIdle({ timeoutMs: 3_000 });
    expect(endpoint.deliveries[1]!.at).toBeGreaterThanOrEqual(notBefore * 1000);
  });

  it('retries a failing destination with Upstash-Retried 0, 1, 2 and QStash backoff (scaled), same message id', async () => {
    // retryDelayScale 0.002: e^2.5 s -> 24 ms, e^5 s -> 297 ms.
    const { qstash, endpoint, client } = await setup({ retryDelayScale: 0.002 }, (_d, i) => ({ status: i < 2 ? 503 : 200 }));
    const { messageId } = await client.publish({ url: endpoint.url('/hooks/flaky'), body: 'try again' });
    await qstash.waitForIdle();
    const attempts = endpoint.deliveries;
    expect(attempts.map((d) => header(d, 'upstash-retried'))).toEqual(['0', '1', '2']);
    expect(new Set(attempts.map((d) => header(d, 'upstash-message-id')))).toEqual(new Set([messageId]));
    const gaps = [attempts[1]!.at - attempts[0]!.at, attempts[2]!.at - attempts[1]!.at];
    expect(gaps[0]).toBeGreaterThanOrEqual(24);
    expect(gaps[0]).toBeLessThan(24 + 200);
    expect(gaps[1]).toBeGreaterThanOrEqual(296);
    expect(gaps[1]).toBeLessThan(297 + 200);
    expect(qstash.stats()).toMatchObject({ delivered: 1, retried: 2, failedAttempts: 2, dlq: 0 });
  });

  it('Upstash-Retry-Delay replaces the backoff (retried counts from 0); a bad expression is refused at publish', async () => {
    const { qstash, endpoint, client } = await setup({ retryDelayScale: 1 }, (_d, i) => ({ status: i < 2 ? 500 : 200 }));
    await client.publish({ url: endpoint.url('/hooks/custom'), body: 'x', retryDelay: '50 * (1 + retried)' });
    await qstash.waitForIdle();
    const [a, b, c] = endpoint.deliveries;
    expect(b!.at - a!.at).toBeGreaterThanOrEqual(49);
    expect(c!.at - b!.at).toBeGreaterThanOrEqual(99);
    const refused = await client.publish({ url: endpoint.url('/hooks/custom'), body: 'x', retryDelay: 'fetch(1)' }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(QstashError);
    expect((refused as QstashError).status).toBe(400);
  });

  it('an attempt that outlives its timeout counts as failed and is retried', async () => {
    const { qstash, endpoint, client } = await setup({ deliveryTimeoutMs: 100 }, (_d, i) => ({ holdMs: i === 0 ? 1_000 : 0 }));
    await client.publish({ url: endpoint.url('/hooks/slow'), body: 'x' });
    await qstash.waitForIdle();
    expect(endpoint.deliveries.map((d) => header(d, 'upstash-retried'))).toEqual(['0', '1']);
    expect(qstash.stats()).toMatchObject({ delivered: 1, failedAttempts: 1 });
  });

  it('after the last retry the message is in the DLQ with the last answer; DLQ delete one and many', async () => {
    const { qstash, endpoint, client } = await setup({}, () => ({ status: 500, body: 'database down', headers: { 'x-why': 'db' } }));
    const url = endpoint.url('/hooks/broken');
    const published = await Promise.all([0, 1, 2].map((i) => client.publish({ url, body: `m${i}`, retries: 1, headers: { 'x-n': String(i) } })));
    await qstash.waitForIdle();
    expect(endpoint.deliveries).toHaveLength(6); // first try + 1 retry, each
    expect(qstash.stats()).toMatchObject({ delivered: 0, retried: 3, deadLettered: 3, dlq: 3 });

    const { messages } = await client.dlq.listMessages();
    expect(messages.map((m) => m.messageId).sort()).toEqual(published.map((p) => p.messageId).sort());
    const m0 = messages.find((m) => m.messageId === published[0]!.messageId)!;
    expect(m0).toMatchObject({ url, method: 'POST', body: 'm0', maxRetries: 1, responseStatus: 500, responseBody: 'database down' });
    expect(m0.responseHeader?.['X-Why']).toEqual(['db']);
    expect(m0.header?.['X-N']).toEqual(['0']);
    await expect(client.messages.get(m0.messageId)).rejects.toMatchObject({ status: 404 });
    expect((await client.dlq.listMessages({ filter: { url } })).messages).toHaveLength(3);

    await client.dlq.delete(m0.dlqId);
    expect((await client.dlq.listMessages()).messages).toHaveLength(2);
    await expect(client.dlq.delete(m0.dlqId)).rejects.toMatchObject({ status: 404 });
    const rest = (await client.dlq.listMessages()).messages.map((m) => m.dlqId);
    expect(await client.dlq.delete(rest)).toEqual({ deleted: 2 });
    expect((await client.dlq.listMessages()).messages).toEqual([]);
    expect(qstash.stats().dlq).toBe(0);
  });

  it('URL groups: one message per endpoint, each with Upstash-Topic-Name and its own id, signed for its URL', async () => {
    const { qstash, endpoint, client } = await setup();
    const endpoints = ['notifications', 'order-summaries', 'catalog'].map((name) => ({ name, url: endpoint.url(`/hooks/${name}`) }));
    await client.urlGroups.addEndpoints({ name: 'order-events', endpoints });
    await client.urlGroups.addEndpoints({ name: 'order-events', endpoints: [endpoints[0]!] }); // again: no second endpoint
    expect((await client.urlGroups.get('order-events')).endpoints).toEqual(endpoints);

    const answers = await client.publish({ urlGroup: 'order-events', body: '{"type":"order.completed"}', headers: { 'content-type': 'application/cloudevents+json' } });
    expect(answers.map((a) => a.url)).toEqual(endpoints.map((e) => e.url));
    expect(new Set(answers.map((a) => a.messageId)).size).toBe(3);
    await qstash.waitForIdle();

    expect(endpoint.deliveries).toHaveLength(3);
    for (const answer of answers) {
      const path = new URL(answer.url).pathname;
      const [delivery] = endpoint.to(path);
      expect(header(delivery, 'upstash-topic-name')).toBe('order-events');
      expect(header(delivery, 'upstash-message-id')).toBe(answer.messageId);
      expect(header(delivery, 'content-type')).toBe('application/cloudevents+json');
      await expect(verify(keysOf(qstash), delivery!, answer.url)).resolves.toBe(true);
    }

    await client.urlGroups.removeEndpoints({ name: 'order-events', endpoints: [{ name: 'catalog' }] });
    expect((await client.urlGroups.get('order-events')).endpoints.map((e) => e.name)).toEqual(['notifications', 'order-summaries']);
    expect((await client.urlGroups.list()).map((g) => g.name)).toEqual(['order-events']);
    await expect(client.publish({ urlGroup: 'no-such-group', body: 'x' })).rejects.toMatchObject({ status: 404 });
    await client.urlGroups.delete('order-events');
    await expect(client.urlGroups.get('order-events')).rejects.toMatchObject({ status: 404 });
  });

  it('queues: never more than `parallelism` deliveries at once; parallelism 1 keeps FIFO order', async () => {
    const { qstash, endpoint, client } = await setup({}, () => ({ holdMs: 30 }));
    const wide = client.queue({ queueName: 'wide' });
    await wide.upsert({ parallelism: 3 });
    for (let i = 0; i < 12; i++) await wide.enqueue({ url: endpoint.url('/hooks/wide'), body: `w${i}` });
    expect(qstash.stats().queues.wide!.inFlight).toBeLessThanOrEqual(3);
    await qstash.waitForIdle();
    expect(endpoint.deliveries).toHaveLength(12);
    expect(endpoint.maxConcurrent()).toBe(3);

    const narrow = await setup({}, () => ({ holdMs: 5 }));
    for (let i = 0; i < 8; i++) await narrow.client.queue({ queueName: 'narrow' }).enqueue({ url: narrow.endpoint.url('/hooks/narrow'), body: `n${i}` });
    expect(await narrow.client.queue({ queueName: 'narrow' }).get()).toMatchObject({ name: 'narrow', parallelism: 1, paused: false });
    await narrow.qstash.waitForIdle();
    expect(narrow.endpoint.deliveries.map((d) => d.body)).toEqual([0, 1, 2, 3, 4, 5, 6, 7].map((i) => `n${i}`));
    expect(narrow.endpoint.maxConcurrent()).toBe(1);
  });

  it('priority: transactional mail enqueued after a bulk backlog is delivered before the backlog drains', async () => {
    const { qstash, endpoint, client } = await setup({}, () => ({ holdMs: 10 }));
    await client.queue({ queueName: 'mail-bulk' }).upsert({ parallelism: 1 });
    await client.queue({ queueName: 'mail-transactional' }).upsert({ parallelism: 5 });
    const url = endpoint.url('/hooks/mail');
    await client.batch(Array.from({ length: 30 }, (_, i) => ({ url, body: `bulk-${i}`, queueName: 'mail-bulk' })));
    expect(qstash.stats().queues['mail-bulk']!.lag).toBeGreaterThan(20);
    await client.batch(Array.from({ length: 5 }, (_, i) => ({ url, body: `transactional-${i}`, queueName: 'mail-transactional' })));
    await qstash.waitForIdle();

    const order = endpoint.deliveries.map((d) => d.body);
    expect(order).toHaveLength(35);
    const lastTransactional = Math.max(...order.map((b, i) => (b.startsWith('transactional') ? i : -1)));
    const bulkBefore = order.slice(0, lastTransactional).filter((b) => b.startsWith('bulk')).length;
    expect(bulkBefore).toBeLessThan(10); // the other 20+ bulk mails were still waiting
    expect(order.filter((b) => b.startsWith('bulk'))).toEqual(Array.from({ length: 30 }, (_, i) => `bulk-${i}`));
  });

  it('queue admin: list, pause holds messages (lag), resume delivers, delete', async () => {
    const { qstash, endpoint, client } = await setup();
    const queue = client.queue({ queueName: 'held' });
    await queue.upsert({ parallelism: 2 });
    await queue.pause();
    await queue.enqueue({ url: endpoint.url('/hooks/held'), body: 'a' });
    await queue.enqueue({ url: endpoint.url('/hooks/held'), body: 'b' });
    expect(await queue.get()).toMatchObject({ name: 'held', parallelism: 2, paused: true, lag: 2 });
    await expect(qstash.waitForIdle({ timeoutMs: 50 })).rejects.toThrow(/not idle after 50 ms/);
    expect(endpoint.deliveries).toEqual([]);
    await queue.resume();
    await qstash.waitForIdle();
    expect(endpoint.deliveries.map((d) => d.body).sort()).toEqual(['a', 'b']);
    expect((await client.queue().list()).map((q) => q.name)).toEqual(['held']);
    await queue.delete();
    expect(await client.queue().list()).toEqual([]);
  });

  it('batch: URLs, URL groups and queues in one call, one answer per item', async () => {
    const { qstash, endpoint, client } = await setup();
    await client.urlGroups.addEndpoints({ name: 'pair', endpoints: [{ name: 'x', url: endpoint.url('/x') }, { name: 'y', url: endpoint.url('/y') }] });
    const answers = await client.batchJSON([
      { url: endpoint.url('/one'), body: { n: 1 } },
      { urlGroup: 'pair', body: { n: 2 } },
      { url: endpoint.url('/queued'), body: { n: 3 }, queueName: 'batch-queue' },
    ]);
    expect(answers).toHaveLength(3);
    expect(answers[0]).toEqual({ messageId: expect.stringMatching(/^msg_/), url: endpoint.url('/one') });
    expect((answers[1] as unknown as { url: string }[]).map((a) => a.url)).toEqual([endpoint.url('/x'), endpoint.url('/y')]);
    await qstash.waitForIdle();
    expect(endpoint.deliveries.map((d) => d.path).sort()).toEqual(['/one', '/queued', '/x', '/y']);
    expect(header(endpoint.to('/one')[0], 'content-type')).toBe('application/json');
    expect(JSON.parse(endpoint.to('/queued')[0]!.body)).toEqual({ n: 3 });
  });

  it("callback: the destination's answer is posted (signed) to the callback URL", async () => {
    const { qstash, endpoint, client } = await setup({}, (d) => (d.path === '/work' ? { status: 201, body: 'done!', headers: { 'x-result': 'fine' } } : {}));
    const url = endpoint.url('/work');
    const callbackUrl = endpoint.url('/callback');
    const { messageId } = await client.publish({ url, body: 'do it', callback: callbackUrl, headers: { 'x-source': 's' } });
    await qstash.waitForIdle();

    const [callback] = endpoint.to('/callback');
    await expect(verify(keysOf(qstash), callback!, callbackUrl)).resolves.toBe(true);
    expect(header(callback, 'upstash-message-id')).not.toBe(messageId); // a message of its own
    const payload = JSON.parse(callback!.body);
    expect(payload).toMatchObject({ status: 201, retried: 0, maxRetries: 3, sourceMessageId: messageId, url, method: 'POST' });
    expect(Buffer.from(payload.body, 'base64').toString()).toBe('done!');
    expect(payload.header['X-Result']).toEqual(['fine']);
    expect(Buffer.from(payload.sourceBody, 'base64').toString()).toBe('do it');
    expect(payload.sourceHeader['X-Source']).toEqual(['s']);
    expect(qstash.stats()).toMatchObject({ callbacks: 1, delivered: 2 });
  });

  it('failure callback: after the last retry, posted with the last answer and the DLQ id', async () => {
    const { qstash, endpoint, client } = await setup({}, (d) => (d.path === '/fails' ? { status: 422, body: 'refused' } : {}));
    const url = endpoint.url('/fails');
    const { messageId } = await client.publish({ url, body: 'bad', retries: 2, failureCallback: endpoint.url('/failed'), callback: endpoint.url('/never') });
    await qstash.waitForIdle();
    expect(endpoint.to('/fails')).toHaveLength(3);
    expect(endpoint.to('/never')).toEqual([]);
    const [failure] = endpoint.to('/failed');
    const payload = JSON.parse(failure!.body);
    const [dead] = (await client.dlq.listMessages()).messages;
    expect(payload).toMatchObject({ status: 422, retried: 2, maxRetries: 2, sourceMessageId: messageId, dlqId: dead!.dlqId, url });
    expect(Buffer.from(payload.body, 'base64').toString()).toBe('refused');
  });

  it('messages: get a waiting message, cancel it (never delivered); unknown ids are 404', async () => {
    const { qstash, endpoint, client } = await setup({ delayScale: 1 });
    const url = endpoint.url('/hooks/cancelled');
    const { messageId } = await client.publish({ url, body: 'never', delay: 60, retries: 1, callback: endpoint.url('/cb'), headers: { 'x-a': '1' } });
    const message = await client.messages.get(messageId);
    expect(message).toMatchObject({ messageId, url, method: 'POST', body: 'never', maxRetries: 1, callback: endpoint.url('/cb') });
    expect(message.header?.['X-A']).toEqual(['1']);
    expect(message.notBefore! - message.createdAt).toBe(60_000);

    expect(await client.messages.cancel(messageId)).toEqual({ cancelled: 1 });
    await expect(client.messages.get(messageId)).rejects.toMatchObject({ status: 404 });
    await expect(client.messages.cancel(messageId)).rejects.toMatchObject({ status: 404 });
    await qstash.waitForIdle({ timeoutMs: 100 });

    // A queued message can be cancelled before its turn too.
    const queue = client.queue({ queueName: 'to-cancel' });
    await queue.upsert({ parallelism: 1, paused: true });
    const queued = await queue.enqueue({ url, body: 'queued' });
    await client.messages.delete(queued.messageId);
    expect((await queue.get()).lag).toBe(0);
    await qstash.waitForIdle({ timeoutMs: 100 });
    expect(endpoint.deliveries).toEqual([]);
  });

  it('a wrong or missing token is 401 and nothing is published', async () => {
    const { qstash, endpoint } = await setup();
    const wrong = new Client({ baseUrl: qstash.url, token: 'not-the-token', enableTelemetry: false, retry: false, devMode: false });
    await expect(wrong.publish({ url: endpoint.url('/x'), body: 'x' })).rejects.toMatchObject({ name: 'QstashError', status: 401 });
    const none = await fetch(`${qstash.url}/v2/publish/${endpoint.url('/x')}`, { method: 'POST', body: 'x' });
    expect(none.status).toBe(401);
    expect(await none.json()).toEqual({ error: 'Unauthorized' });
    expect(qstash.stats().published).toBe(0);
  });

  it('duplicateRate 1 delivers every message twice with the same id; seededRandom replays a run', async () => {
    const { qstash, endpoint, client } = await setup({ duplicateRate: 1 });
    const ids = await Promise.all([1, 2, 3].map((i) => client.publish({ url: endpoint.url('/dup'), body: `d${i}` }).then((r) => r.messageId)));
    await qstash.waitForIdle();
    expect(endpoint.deliveries).toHaveLength(6);
    for (const id of ids) expect(endpoint.deliveries.filter((d) => header(d, 'upstash-message-id') === id)).toHaveLength(2);
    expect(qstash.stats()).toMatchObject({ delivered: 3, duplicated: 3 });

    const a = seededRandom(42);
    const b = seededRandom(42);
    const sequence = Array.from({ length: 5 }, () => a());
    expect(Array.from({ length: 5 }, () => b())).toEqual(sequence);
    expect(sequence.every((x) => x >= 0 && x < 1)).toBe(true);
  });
});

describe('qstash-setup: the topology from shared/events/topology.json', () => {
  it('creates URL groups (endpoint name = consumer) and queues; running it again changes nothing; a new base replaces endpoints', async () => {
    const { qstash, client } = await setup();
    const topology = readTopology();
    const log = () => {};
    const first = await setupQStash({ url: qstash.url, token: qstash.token, hooksBaseUrl: 'http://127.0.0.1:8787', log });
    expect(Object.values(first.queues).every((s) => s === 'created')).toBe(true);

    const wanted = desiredEndpoints(topology, 'http://127.0.0.1:8787/');
    expect(wanted['order-events']).toContainEqual({ name: 'notifications', url: 'http://127.0.0.1:8787/hooks/notifications' });
    for (const [topic, endpoints] of Object.entries(wanted)) expect((await client.urlGroups.get(topic)).endpoints).toEqual(endpoints);
    for (const [name, { parallelism }] of Object.entries(topology.queues)) expect(await client.queue({ queueName: name }).get()).toMatchObject({ parallelism, paused: false });

    const again = await setupQStash({ url: qstash.url, token: qstash.token, hooksBaseUrl: 'http://127.0.0.1:8787', log });
    expect(Object.values(again.topics).every((t) => t.added.length === 0 && t.removed.length === 0)).toBe(true);
    expect(Object.values(again.queues).every((s) => s === 'unchanged')).toBe(true);

    await setupQStash({ url: qstash.url, token: qstash.token, hooksBaseUrl: 'http://127.0.0.1:9999', log });
    const moved = desiredEndpoints(topology, 'http://127.0.0.1:9999');
    for (const [topic, endpoints] of Object.entries(moved)) expect((await client.urlGroups.get(topic)).endpoints).toEqual(endpoints);
  });
});
