import { sql } from 'drizzle-orm';
import { drizzle, type DrizzleD1Database } from 'drizzle-orm/d1';
import { check, sqliteTable, text } from 'drizzle-orm/sqlite-core';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { inbox } from '../../../shared/adapters/cloudflare/inbox-table';
import { cloudEvent, type CloudEvent } from '../../../shared/events/cloud-event';
import { deliveryHandler, type DeliveryBindings, type DeliveryEffects } from '../../../shared/middleware/delivery-handler';
import { createServiceApp } from '../../../shared/middleware/service-app';
import { d1With } from '../support/miniflare-d1';
import { CURRENT_KEY, NEXT_KEY, signAsQStash } from '../support/qstash-signing';

/** A consumer's own table: what its effects write. The CHECK lets a test make the effects fail. */
const effects = sqliteTable(
  'effects',
  { id: text('id').primaryKey(), eventId: text('event_id').notNull(), note: text('note').notNull() },
  (table) => [check('effects_note_allowed', sql`${table.note} <> 'forbidden'`)],
);

const BASE = 'http://127.0.0.1:8787';
const CATALOG_URL = `${BASE}/hooks/catalog`;

let database: Awaited<ReturnType<typeof d1With>>;
let env: DeliveryBindings & { LOG_LEVEL: string };
const lines: string[] = [];
const afterCommits: string[] = [];
const handled: { event: CloudEvent; messageId: string; retried: number; topicName: string | null }[] = [];
let effectsFor: (event: CloudEvent, db: DrizzleD1Database) => DeliveryEffects;

beforeAll(async () => {
  database = await d1With({ inbox, effects });
}, 30_000);
afterAll(() => database?.dispose());
beforeEach(async () => {
  const db = drizzle(database.d1);
  await db.delete(inbox);
  await db.delete(effects);
  lines.length = 0;
  afterCommits.length = 0;
  handled.length = 0;
  env = { DB: database.d1, HOOKS_BASE_URL: BASE, QSTASH_CURRENT_SIGNING_KEY: CURRENT_KEY, QSTASH_NEXT_SIGNING_KEY: NEXT_KEY, LOG_LEVEL: 'debug' };
  effectsFor = (event, db) => ({
    statements: [db.insert(effects).values({ id: crypto.randomUUID(), eventId: event.id, note: 'applied' })],
    afterCommit: async () => {
      afterCommits.push(event.id);
    },
    headers: { 'x-cache-purge-tags': 'product:p1' },
  });
});

// A consumer as a service builds it: the service app's baseline (JSON-only bodies, problem+json).
const app = createServiceApp<DeliveryBindings>({ service: 'test-consumer', write: (line) => lines.push(line) });
for (const consumer of ['catalog', 'mail'] as const) {
  app.post(
    `/hooks/${consumer}`,
    deliveryHandler<DeliveryBindings>({
      consumer,
      handle(event, delivery) {
        handled.push({ event, messageId: delivery.messageId, retried: delivery.retried, topicName: delivery.topicName });
        return effectsFor(event, delivery.db);
      },
    }),
  );
}

const orderCompleted = (id = 'evt_1') =>
  cloudEvent({ id, type: 'order.completed', source: 'stratus/orders', subject: 'ord_1', data: { orderId: 'ord_1' }, time: '2026-01-01T00:00:00Z' });

interface DeliverOptions {
  path?: string;
  messageId?: string;
  retried?: number;
  key?: string;
  signedUrl?: string;
  signedBody?: string;
  unsigned?: boolean;
  headers?: Record<string, string>;
}

async function deliver(body: string, options: DeliverOptions = {}): Promise<Response> {
  const path = options.path ?? '/hooks/catalog';
  const headers: Record<string, string> = {
    'content-type': 'application/cloudevents+json',
    'content-length': String(new TextEncoder().encode(body).length),
    'upstash-message-id': options.messageId ?? `msg_${crypto.randomUUID()}`,
    'upstash-retried': String(options.retried ?? 0),
    ...options.headers,
  };
  if (!options.unsigned) {
    headers['upstash-signature'] = await signAsQStash({ url: options.signedUrl ?? `${BASE}${path}`, body: options.signedBody ?? body, key: options.key });
  }
  return app.request(path, { method: 'POST', headers, body }, env);
}

const counts = async () => {
  const db = drizzle(database.d1);
  return { inbox: (await db.select().from(inbox)).length, effects: (await db.select().from(effects)).length };
};

const logs = () => lines.map((line) => JSON.parse(line) as { level: string; msg: string; [key: string]: unknown });

describe('deliveryHandler', () => {
  it('applies a signed delivery once: inbox row and effects in one commit, then 200 processed', async () => {
    const response = await deliver(JSON.stringify(orderCompleted()), { messageId: 'msg_1', retried: 2, headers: { 'upstash-topic-name': 'order-events' } });

    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: 'processed', messageId: 'msg_1', eventId: 'evt_1' });
    expect(response.headers.get('x-cache-purge-tags')).toBe('product:p1');
    expect(await counts()).toEqual({ inbox: 1, effects: 1 });
    expect(handled).toEqual([{ event: orderCompleted(), messageId: 'msg_1', retried: 2, topicName: 'order-events' }]);
    expect(afterCommits).toEqual(['evt_1']);
    const [row] = await drizzle(database.d1).select().from(inbox);
    expect(row).toMatchObject({ messageId: 'msg_1', consumer: 'catalog', eventId: 'evt_1', eventType: 'order.completed' });
  });

  it('answers a redelivered message 200 duplicate and applies nothing more', async () => {
    const body = JSON.stringify(orderCompleted());
    await deliver(body, { messageId: 'msg_1' });

    const again = await deliver(body, { messageId: 'msg_1', retried: 1 });

    expect(again.status).toBe(200);
    expect(await again.json()).toEqual({ status: 'duplicate', messageId: 'msg_1', eventId: 'evt_1' });
    // The consumer's headers go out again (the first answer may have been lost on its way).
    expect(again.headers.get('x-cache-purge-tags')).toBe('product:p1');
    expect(await counts()).toEqual({ inbox: 1, effects: 1 });
    expect(afterCommits).toEqual(['evt_1']);
  });

  it('answers the same event under a new message id as a duplicate', async () => {
    const body = JSON.stringify(orderCompleted());
    await deliver(body, { messageId: 'msg_1' });

    const republished = await deliver(body, { messageId: 'msg_2' });

    expect(await republished.json()).toMatchObject({ status: 'duplicate', messageId: 'msg_2' });
    expect(await counts()).toEqual({ inbox: 1, effects: 1 });
  });

  it('writes no inbox row for an event the consumer acts on in no way, and answers ignored each time', async () => {
    effectsFor = () => ({ statements: [], headers: { 'x-cache-purge-tags': 'product:p1' } });
    const body = JSON.stringify(orderCompleted());
    for (let i = 0; i < 2; i++) {
      const response = await deliver(body, { messageId: 'msg_1' });
      expect(response.headers.get('x-cache-purge-tags')).toBe('product:p1');
      expect(await response.json()).toEqual({ status: 'ignored', messageId: 'msg_1', eventId: 'evt_1' });
    }
    expect(await counts()).toEqual({ inbox: 0, effects: 0 });
  });

  it('applies one event once per consumer', async () => {
    const body = JSON.stringify(orderCompleted());
    expect(await (await deliver(body, { path: '/hooks/catalog' })).json()).toMatchObject({ status: 'processed' });
    expect(await (await deliver(body, { path: '/hooks/mail' })).json()).toMatchObject({ status: 'processed' });
    expect(await counts()).toEqual({ inbox: 2, effects: 2 });
  });

  it('applies each of many concurrent redeliveries of one message exactly once', async () => {
    const body = JSON.stringify(orderCompleted());
    const answers = await Promise.all(Array.from({ length: 8 }, () => deliver(body, { messageId: 'msg_1' }).then((r) => r.json() as Promise<{ status: string }>)));
    expect(answers.filter((answer) => answer.status === 'processed')).toHaveLength(1);
    expect(answers.filter((answer) => answer.status === 'duplicate')).toHaveLength(7);
    expect(await counts()).toEqual({ inbox: 1, effects: 1 });
  });

  it('accepts a delivery signed with the next signing key', async () => {
    const response = await deliver(JSON.stringify(orderCompleted()), { key: NEXT_KEY });
    expect(response.status).toBe(200);
  });

  it('verifies against HOOKS_BASE_URL even when it ends with a slash', async () => {
    env.HOOKS_BASE_URL = `${BASE}/`;
    expect((await deliver(JSON.stringify(orderCompleted()))).status).toBe(200);
  });

  describe('refuses with 401 and applies nothing', () => {
    const refusals: [string, DeliverOptions][] = [
      ['an unsigned delivery', { unsigned: true }],
      ['a tampered body', { signedBody: JSON.stringify(orderCompleted('evt_other')) }],
      ['a signature for another consumer', { signedUrl: `${BASE}/hooks/notifications` }],
      ['a signature for another host', { signedUrl: 'http://127.0.0.1:9999/hooks/catalog' }],
      ['a signature with an unknown key', { key: 'sig_not_ours' }],
    ];
    for (const [name, options] of refusals) {
      it(name, async () => {
        const response = await deliver(JSON.stringify(orderCompleted()), options);
        expect(response.status).toBe(401);
        expect(response.headers.get('content-type')).toBe('application/problem+json');
        expect(await response.json()).toMatchObject({ type: '/problems/invalid-signature', status: 401 });
        expect(await counts()).toEqual({ inbox: 0, effects: 0 });
        expect(handled).toHaveLength(0);
      });
    }

    for (const missing of ['HOOKS_BASE_URL', 'QSTASH_CURRENT_SIGNING_KEY', 'QSTASH_NEXT_SIGNING_KEY'] as const) {
      it(`any delivery while ${missing} is not configured (fail closed), with an error logged`, async () => {
        delete env[missing];
        const response = await deliver(JSON.stringify(orderCompleted()));
        expect(response.status).toBe(401);
        expect(logs().some((line) => line.level === 'error' && line.msg.includes(missing))).toBe(true);
        expect(await counts()).toEqual({ inbox: 0, effects: 0 });
      });
    }
  });

  it('answers 400 for a signed body that is not a CloudEvent', async () => {
    const response = await deliver(JSON.stringify({ specversion: '1.0', id: 'evt_1', source: 's' }));
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ status: 400, errors: [{ path: 'type' }] });

    expect((await deliver('{not json')).status).toBe(400);
    expect(await counts()).toEqual({ inbox: 0, effects: 0 });
  });

  it('answers 400 for a delivery without a message id', async () => {
    const response = await deliver(JSON.stringify(orderCompleted()), { headers: { 'upstash-message-id': '' } });
    expect(response.status).toBe(400);
  });

  it('answers 500 when the effects fail, leaving no inbox row, so the retry applies it', async () => {
    const body = JSON.stringify(orderCompleted());
    effectsFor = (event, db) => ({ statements: [db.insert(effects).values({ id: 'e1', eventId: event.id, note: 'forbidden' })] });

    const failed = await deliver(body, { messageId: 'msg_1' });
    expect(failed.status).toBe(500);
    expect(await counts()).toEqual({ inbox: 0, effects: 0 });

    effectsFor = (event, db) => ({ statements: [db.insert(effects).values({ id: 'e1', eventId: event.id, note: 'fine' })] });
    const retried = await deliver(body, { messageId: 'msg_1', retried: 1 });
    expect(await retried.json()).toMatchObject({ status: 'processed' });
    expect(await counts()).toEqual({ inbox: 1, effects: 1 });
  });

  it('treats a UNIQUE violation in the effects as a failure (500), not as a duplicate', async () => {
    const db = drizzle(database.d1);
    await db.insert(effects).values({ id: 'taken', eventId: 'x', note: 'old' });
    effectsFor = (event, d) => ({ statements: [d.insert(effects).values({ id: 'taken', eventId: event.id, note: 'new' })] });

    const response = await deliver(JSON.stringify(orderCompleted()));

    expect(response.status).toBe(500);
    expect(await counts()).toEqual({ inbox: 0, effects: 1 });
  });

  it('passes on an error the consumer throws (its status), applying nothing', async () => {
    const { badRequest } = await import('../../../shared/http/problem');
    effectsFor = () => {
      throw badRequest('order.completed data is not valid');
    };
    const response = await deliver(JSON.stringify(orderCompleted()));
    expect(response.status).toBe(400);
    expect(await counts()).toEqual({ inbox: 0, effects: 0 });
  });

  it('still answers 200 when the after-commit work fails, and logs it', async () => {
    effectsFor = (event, db) => ({
      statements: [db.insert(effects).values({ id: 'e1', eventId: event.id, note: 'applied' })],
      afterCommit: () => {
        throw new Error('kick failed');
      },
    });
    const response = await deliver(JSON.stringify(orderCompleted()));
    expect(response.status).toBe(200);
    expect(logs().some((line) => line.level === 'error' && line.msg.startsWith('after-commit work failed'))).toBe(true);
  });
});
