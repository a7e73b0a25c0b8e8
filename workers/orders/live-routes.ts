import { eq } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/d1';
import { requestD1 } from '../../shared/adapters/cloudflare/traced-d1';
import { Hono, type Context } from 'hono';
import { z } from 'zod';
import type { Identity } from '../../shared/http/identity';
import { HttpError, notFound, unauthorized } from '../../shared/http/problem';
import type { AppEnv } from '../../shared/middleware/app-env';
import { validate } from '../../shared/validation/validate';
import type { OrdersBindings } from './env';
import { LIVE_TICKET_PATTERN } from './live-ticket';
import { LIVE_USER_HEADER } from './order-live';
import { orderIdParam } from './order-schemas';
import { orders } from './schema';

type OrdersContext = Context<AppEnv<OrdersBindings>>;

/** A ticket not of the shape `newTicket` makes is refused unread (400). */
const ticketQuery = z.object({ ticket: z.string().regex(LIVE_TICKET_PATTERN, 'not a ticket').optional() });

const liveObject = (env: OrdersBindings, orderId: string) => env.ORDER_LIVE.get(env.ORDER_LIVE.idFromName(orderId));

/** The same 404 for no order and for someone else's: the route does not tell which ids exist. */
async function assertWatcher(c: OrdersContext, orderId: string, identity: Identity): Promise<void> {
  const row = await drizzle(requestD1(c)).select({ userId: orders.userId }).from(orders).where(eq(orders.id, orderId)).get();
  if (!row || (row.userId !== identity.userId && !identity.roles.includes('admin'))) throw notFound(`No order with id ${orderId}.`);
}

/**
 * `GET /orders/:id/live` (a WebSocket: the order's state, then each saga step as it ends and the
 * final status; live-view.ts) and `POST /orders/:id/live/ticket` (a one-time ticket for clients
 * that cannot set headers, such as browsers). Served by the order's live object (order-live.ts);
 * the gateway lets `Upgrade` through for this path only, after checking the access token.
 */
export const liveRoutes = new Hono<AppEnv<OrdersBindings>>()
  .post('/:id/live/ticket', validate('param', orderIdParam), async (c) => {
    const identity = c.get('identity');
    if (!identity) throw unauthorized('Sign in to watch an order.', { 'www-authenticate': 'Bearer' });
    const { id } = c.req.valid('param');
    await assertWatcher(c, id, identity);
    const ticket = await liveObject(c.env, id).issueTicket(identity.userId);
    return c.json(ticket, 201, { 'cache-control': 'no-store' });
  })
  /**
   * Who watches is settled before the upgrade: the caller the service token names (their access
   * token, checked at the gateway) if they own the order or are an admin, else the ticket's user
   * (the owner check was made when it was issued). Everything refused is a plain HTTP problem,
   * never an upgraded socket that closes at once.
   */
  .get('/:id/live', validate('param', orderIdParam), validate('query', ticketQuery), async (c) => {
    if (c.req.header('upgrade')?.toLowerCase() !== 'websocket') {
      throw new HttpError(426, { detail: 'This is a WebSocket: send Upgrade: websocket.', headers: { upgrade: 'websocket' } });
    }
    const { id } = c.req.valid('param');
    const { ticket } = c.req.valid('query');
    const live = liveObject(c.env, id);
    const identity = c.get('identity');
    let userId: string;
    if (identity) {
      await assertWatcher(c, id, identity);
      userId = identity.userId;
    } else if (ticket) {
      const redeemed = await live.redeemTicket(ticket);
      if (!redeemed) throw unauthorized('The ticket is unknown, used or expired: ask POST /api/orders/:id/live/ticket for another.', { 'www-authenticate': 'Bearer' });
      userId = redeemed;
    } else {
      throw unauthorized('Sign in (Authorization: Bearer) or bring a ?ticket= to watch an order.', { 'www-authenticate': 'Bearer' });
    }
    const response = await live.fetch(`https://order-live.internal/orders/${id}/live`, { headers: { upgrade: 'websocket', [LIVE_USER_HEADER]: userId } });
    if (response.status === 429) {
      throw new HttpError(429, { detail: 'Too many open sockets on this order for this user; close one first.', headers: { 'retry-after': '5' } });
    }
    if (response.status !== 101 || !response.webSocket) throw new HttpError(502, { detail: `The order's live object answered ${response.status}.` });
    // A fresh response: the object's headers are immutable, and the app's middleware adds its own.
    return new Response(null, { status: 101, webSocket: response.webSocket });
  });
