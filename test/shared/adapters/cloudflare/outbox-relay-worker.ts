import { drizzle } from 'drizzle-orm/d1';
import { kickOutbox, outboxRelay, type OutboxBindings, type OutboxRelayBindings } from '../../../../shared/adapters/cloudflare/outbox-relay';
import { outboxInsert } from '../../../../shared/adapters/cloudflare/outbox-table';
import { cloudEvent } from '../../../../shared/events/cloud-event';

export { OutboxRelay } from '../../../../shared/adapters/cloudflare/outbox-relay';

type Env = OutboxRelayBindings & OutboxBindings;

/**
 * A minimal service for the relay's test (outbox-relay.test.ts bundles it into Miniflare): POST
 * /events/:id commits one outbox row and kicks the relay as a service does after its commit;
 * /kick and /status call the relay's RPC methods directly.
 */
export default {
  async fetch(request, env, ctx) {
    const { pathname } = new URL(request.url);
    const written = /^\/events\/([\w-]+)$/.exec(pathname);
    if (written && request.method === 'POST') {
      const event = cloudEvent({ id: written[1], type: 'order.completed', source: 'stratus/orders', data: { orderId: 'ord_1' } });
      const db = drizzle(env.DB);
      await db.batch([outboxInsert(db, event, { kind: 'topic', topic: 'order-events' })]);
      kickOutbox(env, ctx);
      return new Response(null, { status: 202 });
    }
    if (pathname === '/kick') return Response.json(await outboxRelay(env).kick());
    if (pathname === '/status') return Response.json(await outboxRelay(env).status());
    return new Response(null, { status: 404 });
  },
} satisfies ExportedHandler<Env>;
