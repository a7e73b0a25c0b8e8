import { createExecutionContext, createScheduledController, waitOnExecutionContext } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { drizzle } from 'drizzle-orm/d1';
import { describe, expect, it } from 'vitest';
import { outboxInsert } from '../../../shared/adapters/cloudflare/outbox-table';
import worker from '../../../workers/notifications/index';
import { all, hookUrl, mailRequested, published, type OutboxDbRow } from './support';

describe('the outbox heartbeat (cron trigger)', () => {
  it('publishes a committed row whose kick was lost', async () => {
    // A commit whose kick never ran (its isolate went away): the row is pending, the relay asleep.
    const event = mailRequested(`mail_${crypto.randomUUID()}`);
    await outboxInsert(drizzle(env.DB), event, { kind: 'queue', queue: 'mail-transactional', url: hookUrl('mail') });
    const ctx = createExecutionContext();
    await worker.scheduled(createScheduledController({ scheduledTime: Date.now(), cron: '* * * * *' }), env, ctx);
    await waitOnExecutionContext(ctx);
    const [row] = await all<OutboxDbRow>('SELECT * FROM outbox WHERE id = ?', event.id);
    expect(row?.sent_at).toEqual(expect.any(Number));
    expect((await published()).some((message) => message.deduplicationId === event.id)).toBe(true);
  });
});
