import { Client } from '@upstash/qstash';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { StateStore } from '../../scripts/qstash/state-store.mjs';
import { startQStashServer, type QStashServerOptions } from '../../scripts/qstash-server.mjs';
import { cleanups, header, startEndpoint, type Answer, type Delivery } from './qstash-test-kit';

// The local QStash keeps its state in a folder: what was published, delayed, retrying, queued or
// dead-lettered when it stopped is still there when it starts again, and is delivered once.

function stateDir() {
  const dir = mkdtempSync(join(tmpdir(), 'qstash-state-'));
  cleanups.push(async () => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

async function serverOn(dir: string, options: QStashServerOptions = {}) {
  const qstash = await startQStashServer({ stateDir: dir, ...options });
  let closed = false;
  const close = async () => {
    if (!closed) await qstash.close();
    closed = true;
  };
  cleanups.push(close);
  const client = new Client({ baseUrl: qstash.url, token: qstash.token, enableTelemetry: false, retry: false, devMode: false });
  return { qstash, client, close };
}

async function endpoint(answer?: (delivery: Delivery, index: number) => Answer) {
  const started = await startEndpoint(answer);
  cleanups.push(() => started.close());
  return started;
}

/** Resolves once `ready()` holds; rejects after `timeoutMs`. */
async function until(ready: () => boolean, timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  while (!ready()) {
    if (Date.now() > deadline) throw new Error(`not ready within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('local QStash state across a restart', () => {
  it('a message published with a 5 s delay survives a restart at 2 s and is delivered once, on time', async () => {
    const dir = stateDir();
    const target = await endpoint();
    const first = await serverOn(dir);
    const publishedAt = Date.now();
    const { messageId } = await first.client.publish({ url: target.url('/hooks/later'), body: 'five seconds', delay: '5s' });
    // The scenario is a stop two seconds in: let that much time pass, then stop.
    await new Promise((resolve) => setTimeout(resolve, 2_000 - (Date.now() - publishedAt)));
    await first.close();
    expect(target.deliveries).toEqual([]);

    const second = await serverOn(dir);
    const kept = await second.client.messages.get(messageId);
    expect(kept.notBefore! - kept.createdAt).toBe(5_000);
    await second.qstash.waitForIdle({ timeoutMs: 8_000 });
    expect(target.deliveries).toHaveLength(1);
    expect(header(target.deliveries[0], 'upstash-message-id')).toBe(messageId);
    expect(target.deliveries[0]!.body).toBe('five seconds');
    expect(target.deliveries[0]!.at - publishedAt).toBeGreaterThanOrEqual(5_000);
    // Finished means forgotten: a third start delivers nothing again.
    await second.close();
    const third = await serverOn(dir);
    expect(third.qstash.stats().pending).toBe(0);
  }, 15_000);

  it('a message waiting out its backoff when the server stops is retried after it starts again', async () => {
    const dir = stateDir();
    const target = await endpoint((_, index) => (index === 0 ? { status: 500 } : {}));
    const first = await serverOn(dir, { retryDelayScale: 0.05 }); // first retry after 12 s * 0.05 = 600 ms
    const { messageId } = await first.client.publish({ url: target.url('/hooks/flaky'), body: 'again', retries: 2 });
    // Stop once the failure is taken in and the retry is scheduled (stopping while the attempt is
    // still in flight would make that attempt again, with Upstash-Retried 0: also correct).
    await until(() => first.qstash.stats().retried === 1, 2_000);
    await first.close();

    const second = await serverOn(dir, { retryDelayScale: 0.05 });
    await second.qstash.waitForIdle({ timeoutMs: 5_000 });
    expect(target.deliveries.map((d) => [header(d, 'upstash-message-id'), header(d, 'upstash-retried')])).toEqual([
      [messageId, '0'],
      [messageId, '1'],
    ]);
  });

  it('queues (paused, with their waiting messages in order), URL groups, schedules, the DLQ and rotated keys survive', async () => {
    const dir = stateDir();
    const target = await endpoint((delivery) => (delivery.path === '/dead' ? { status: 500 } : {}));
    const first = await serverOn(dir, { retryDelayScale: 0.001 });
    const queue = first.client.queue({ queueName: 'held' });
    await queue.upsert({ parallelism: 1, paused: true });
    for (const n of [1, 2, 3]) await queue.enqueue({ url: target.url('/queued'), body: `q${n}` });
    await first.client.urlGroups.addEndpoints({ name: 'group', endpoints: [{ name: 'one', url: target.url('/group') }] });
    const { scheduleId } = await first.client.schedules.create({ destination: target.url('/cron'), cron: '0 3 * * *', body: 'nightly' });
    await first.client.schedules.pause({ schedule: scheduleId });
    const dead = await first.client.publish({ url: target.url('/dead'), body: 'dead', retries: 0 });
    await until(() => first.qstash.stats().dlq === 1, 2_000);
    const rotated: { current: string } = await (await fetch(`${first.qstash.url}/v2/keys/rotate`, { method: 'POST', headers: { authorization: `Bearer ${first.qstash.token}` } })).json();
    await first.close();

    const second = await serverOn(dir);
    expect(second.qstash.currentSigningKey).toBe(rotated.current);
    expect(await second.client.queue({ queueName: 'held' }).get()).toMatchObject({ paused: true, lag: 3, parallelism: 1 });
    expect((await second.client.urlGroups.get('group')).endpoints).toEqual([{ name: 'one', url: target.url('/group') }]);
    expect(await second.client.schedules.get(scheduleId)).toMatchObject({ cron: '0 3 * * *', body: 'nightly', isPaused: true });
    expect((await second.client.dlq.listMessages()).messages).toEqual([expect.objectContaining({ messageId: dead.messageId, responseStatus: 500 })]);

    await second.client.queue({ queueName: 'held' }).resume();
    await second.client.publish({ urlGroup: 'group', body: 'fan-out' });
    await second.qstash.waitForIdle();
    expect(target.to('/queued').map((d) => d.body)).toEqual(['q1', 'q2', 'q3']);
    expect(target.to('/group')).toHaveLength(1);
  });

  it('an unfinished message is not redelivered once it has been delivered, and a deleted dead letter stays deleted', async () => {
    const dir = stateDir();
    const target = await endpoint((delivery) => (delivery.path === '/dead' ? { status: 500 } : {}));
    const first = await serverOn(dir, { retryDelayScale: 0.001 });
    await first.client.publish({ url: target.url('/now'), body: 'now' });
    await first.client.publish({ url: target.url('/dead'), body: 'dead', retries: 0 });
    await first.qstash.waitForIdle();
    const [dead] = (await first.client.dlq.listMessages()).messages;
    await first.client.dlq.delete(dead!.dlqId);
    await first.close();

    const second = await serverOn(dir);
    await second.qstash.waitForIdle();
    expect(target.to('/now')).toHaveLength(1);
    expect((await second.client.dlq.listMessages()).messages).toEqual([]);
  });
});

describe('the state store', () => {
  it('replays the journal over the snapshot; a line cut short at the end (a crash mid-write) is ignored', () => {
    const dir = stateDir();
    const store = new StateStore(dir);
    store.put('message', 'a', { n: 1 });
    store.put('message', 'b', { n: 2 });
    store.put('message', 'a', { n: 3 });
    store.delete('message', 'b');
    store.close();
    writeFileSync(join(dir, 'journal.jsonl'), readFileSync(join(dir, 'journal.jsonl'), 'utf8') + '{"op":"put","kind":"mess');

    const reopened = new StateStore(dir);
    expect([...reopened.all('message')]).toEqual([['a', { n: 3 }]]);
    // Opening compacts: the snapshot holds the state and the journal starts empty.
    expect(readFileSync(join(dir, 'journal.jsonl'), 'utf8')).toBe('');
    expect(JSON.parse(readFileSync(join(dir, 'snapshot.json'), 'utf8')).records.message).toEqual({ a: { n: 3 } });
    reopened.close();
  });

  it('one server per folder: a lock held by a live process refuses, one left by a dead process is taken over', () => {
    const dir = stateDir();
    writeFileSync(join(dir, 'lock'), String(process.ppid));
    expect(() => new StateStore(dir)).toThrow(/in use by another local QStash/);
    writeFileSync(join(dir, 'lock'), '999999999');
    const store = new StateStore(dir);
    expect(readFileSync(join(dir, 'lock'), 'utf8')).toBe(String(process.pid));
    store.close();
    expect(existsSync(join(dir, 'lock'))).toBe(false);
  });

  it('refuses to start on a journal damaged before its last line rather than drop state', () => {
    const dir = stateDir();
    new StateStore(dir).close();
    writeFileSync(join(dir, 'journal.jsonl'), 'garbage\n{"op":"put","kind":"message","id":"a","record":{}}\n');
    expect(() => new StateStore(dir)).toThrow(/line 1 is not JSON/);
  });
});
