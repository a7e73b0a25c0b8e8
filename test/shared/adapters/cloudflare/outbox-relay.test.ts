import { build } from 'esbuild';
import { Miniflare } from 'miniflare';
import { fileURLToPath } from 'node:url';
import { generateSQLiteDrizzleJson, generateSQLiteMigration } from 'drizzle-kit/api';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { outbox } from '../../../../shared/adapters/cloudflare/outbox-table';
import type { OutboxStatus } from '../../../../shared/adapters/cloudflare/outbox-relay';
import type { DispatchResult } from '../../../../shared/outbox/dispatcher';
import { fakeQStashApi } from '../../support/fake-qstash-api';

/**
 * The OutboxRelay Durable Object in workerd (Miniflare, from Node): a small worker that commits
 * outbox rows and kicks the relay (outbox-relay-worker.ts) is bundled as wrangler would, the
 * relay publishes through the official QStash client to a stand-in for QStash's API, and its
 * alarm is the real one.
 */
let script: string;
let qstash: Awaited<ReturnType<typeof fakeQStashApi>>;
const instances: Miniflare[] = [];

beforeAll(async () => {
  const bundle = await build({
    entryPoints: [fileURLToPath(new URL('./outbox-relay-worker.ts', import.meta.url))],
    bundle: true,
    write: false,
    format: 'esm',
    platform: 'neutral',
    target: 'es2022',
    conditions: ['workerd', 'worker', 'browser'],
    mainFields: ['module', 'main'],
    external: ['cloudflare:workers'],
    logLevel: 'silent',
  });
  script = bundle.outputFiles[0]!.text;
  qstash = await fakeQStashApi();
}, 30_000);
afterEach(async () => {
  await Promise.all(instances.splice(0).map((mf) => mf.dispose()));
  qstash.reset();
});
afterAll(() => qstash?.close());

async function service(bindings: Record<string, string>) {
  const mf = new Miniflare({
    modules: [{ type: 'ESModule', path: 'worker.js', contents: script }],
    compatibilityDate: '2026-04-20',
    d1Databases: ['DB'],
    durableObjects: { OUTBOX: 'OutboxRelay' },
    bindings: { LOG_LEVEL: 'error', ...bindings },
  });
  instances.push(mf);
  const d1 = await mf.getD1Database('DB');
  for (const statement of await generateSQLiteMigration(await generateSQLiteDrizzleJson({}), await generateSQLiteDrizzleJson({ outbox }))) {
    await d1.prepare(statement).run();
  }
  const call = async <T>(path: string, method = 'GET'): Promise<T> => {
    const response = await mf.dispatchFetch(`http://service${path}`, { method });
    return (response.status === 202 ? null : await response.json()) as T;
  };
  return { mf, d1, call };
}

/** Polls `read` until `done` holds (no sleeping as synchronisation: a deadline, then fail). */
async function eventually<T>(read: () => Promise<T>, done: (value: T) => boolean, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > deadline) throw new Error(`not reached in ${timeoutMs} ms; last: ${JSON.stringify(value)}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

const publishes = () => qstash.received.filter((request) => request.path.startsWith('/v2/publish/'));

describe('OutboxRelay', () => {
  it('publishes a committed row right after the commit (kickOutbox) and reports it sent', async () => {
    const { call } = await service({ QSTASH_URL: qstash.url, QSTASH_TOKEN: 'tok' });

    await call('/events/evt_1', 'POST');
    const status = await eventually(() => call<OutboxStatus>('/status'), (s) => s.sent === 1);

    expect(status).toEqual({ pending: 0, sent: 1, dead: 0, oldestPendingAt: null, nextAttemptAt: null });
    expect(publishes()).toHaveLength(1);
    expect(publishes()[0]).toMatchObject({ path: '/v2/publish/order-events' });
    expect(publishes()[0]?.headers['upstash-deduplication-id']).toBe('evt_1');
    expect(publishes()[0]?.headers.authorization).toBe('Bearer tok');
  });

  it('keeps a row QStash refused and publishes it on its alarm once QStash is back', async () => {
    qstash.answerWith(() => ({ status: 500, body: { error: 'down' } }));
    const { call } = await service({ QSTASH_URL: qstash.url, QSTASH_TOKEN: 'tok', OUTBOX_RETRY_BASE_MS: '200' });

    await call('/events/evt_1', 'POST');
    const kicked = await call<DispatchResult>('/kick');
    expect(kicked).toMatchObject({ sent: 0, pending: 1 });
    const waiting = await call<OutboxStatus>('/status');
    expect(waiting.pending).toBe(1);
    expect(waiting.oldestPendingAt).not.toBeNull();

    qstash.answerWith(() => ({ status: 200, body: [{ messageId: 'msg_ok' }] }));
    // Nobody kicks again: only the relay's alarm can publish it now.
    await eventually(() => call<OutboxStatus>('/status'), (s) => s.sent === 1 && s.pending === 0);
    const attempts = publishes().map((request) => request.headers['upstash-deduplication-id']);
    expect(attempts.length).toBeGreaterThanOrEqual(2);
    expect(new Set(attempts)).toEqual(new Set(['evt_1']));
  });

  it('publishes more rows than one batch, batch after batch', async () => {
    const { call } = await service({ QSTASH_URL: qstash.url, QSTASH_TOKEN: 'tok', OUTBOX_BATCH_SIZE: '2' });
    for (let i = 1; i <= 5; i++) await call(`/events/evt_${i}`, 'POST');

    await eventually(() => call<OutboxStatus>('/status'), (s) => s.sent === 5);
    expect(new Set(publishes().map((request) => request.headers['upstash-deduplication-id']))).toEqual(new Set(['evt_1', 'evt_2', 'evt_3', 'evt_4', 'evt_5']));
  });

  it('leaves rows pending, and publishes nothing, while QStash is not configured', async () => {
    const { call } = await service({});

    await call('/events/evt_1', 'POST');
    expect(await call<DispatchResult>('/kick')).toMatchObject({ sent: 0, failed: 0, pending: 1 });
    expect(await call<OutboxStatus>('/status')).toMatchObject({ pending: 1, sent: 0 });
    expect(qstash.received).toHaveLength(0);
  });
});
