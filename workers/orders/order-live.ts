import { DurableObject } from 'cloudflare:workers';
import { eq } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/d1';
import type { SagaStatus } from '../../shared/saga/saga';
import type { OrdersBindings } from './env';
import { liveConfig } from './live-config';
import { newTicket } from './live-ticket';
import { changesSince, hasEnded, stateMessage, type LiveMessage, type LiveSnapshot, type LiveStep, type Seen } from './live-view';
import { orders } from './schema';
import type { TimelineStep } from './timeline';

/** What the orders route tells the object about the socket it asks for (never a client's header: the route sets them). */
export const LIVE_USER_HEADER = 'x-live-user';

/** What each socket carries across hibernation: whose it is, what it was told, when it last spoke. */
interface Attachment {
  userId: string;
  seen: Seen | null;
  lastActivityAt: number;
}

/** A ticket waiting for its one use. */
interface Ticket {
  userId: string;
  expiresAt: number;
}

const TICKET_PREFIX = 'ticket:';

/** Close codes: 1000 after the terminal status, 1009 a message too big, 4408 idle (4000-4999 are the application's). */
const CLOSE = { ended: 1000, tooBig: 1009, idle: 4408 } as const;

/**
 * One order's watchers (`GET /api/orders/:id/live`), one object per order, named by the order id.
 *
 * It uses the WebSocket Hibernation API: the runtime holds the sockets (`ctx.acceptWebSocket`) and
 * the object may be evicted from memory between messages, so a watcher waiting a minute for a
 * saga costs nothing while nothing happens. Everything a socket needs survives in its attachment
 * (what it was told), so the object keeps no storage for it at all; the only stored rows are
 * tickets, each gone at its use or its expiry (30 s). No timer keeps it awake: one alarm, at the
 * earliest idle deadline or ticket expiry, and none once nobody is connected.
 *
 * The saga (order-saga.ts) pushes its whole state here after each save, once someone watches
 * (`publish`), without waiting for the answer. A newcomer is sent the saga's state as it stands
 * first (asked of the saga, the authority, or its D1 row once the saga's storage is gone); a
 * push this object missed is healed by the next one, since each carries the whole state.
 */
export class OrderLive extends DurableObject<OrdersBindings> {
  /** The newest snapshot seen in this life of the object: a push that raced a newcomer's first read. */
  private latest: LiveSnapshot | null = null;

  constructor(ctx: DurableObjectState, env: OrdersBindings) {
    super(ctx, env);
    // Keep-alives are answered by the runtime without waking the object.
    ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair('ping', 'pong'));
  }

  /** A ticket for one socket of `userId` (the route checked they may watch), valid LIVE_TICKET_TTL_MS. */
  async issueTicket(userId: string): Promise<{ ticket: string; expiresIn: number }> {
    const ttl = liveConfig(this.env).LIVE_TICKET_TTL_MS;
    const ticket = newTicket();
    const expiresAt = Date.now() + ttl;
    await this.ctx.storage.put<Ticket>(`${TICKET_PREFIX}${ticket}`, { userId, expiresAt });
    await this.armAlarm(expiresAt);
    return { ticket, expiresIn: Math.ceil(ttl / 1000) };
  }

  /**
   * Spends a ticket: the user it was issued to, or null (unknown, used, or expired). Read and
   * deleted with no other I/O between, so two sockets racing with one ticket get one user.
   */
  async redeemTicket(ticket: string): Promise<string | null> {
    const key = `${TICKET_PREFIX}${ticket}`;
    const found = await this.ctx.storage.get<Ticket>(key);
    if (!found) return null;
    await this.ctx.storage.delete(key);
    return found.expiresAt > Date.now() ? found.userId : null;
  }

  /**
   * The upgrade, for the user the orders route names (it checked the token or the ticket, and
   * the owner): 429 when that user has LIVE_MAX_CONNECTIONS_PER_USER sockets here already.
   */
  override async fetch(request: Request): Promise<Response> {
    const userId = request.headers.get(LIVE_USER_HEADER);
    if (!userId || request.headers.get('upgrade')?.toLowerCase() !== 'websocket') return new Response(null, { status: 400 });
    const config = liveConfig(this.env);
    if (this.ctx.getWebSockets(userId).length >= config.LIVE_MAX_CONNECTIONS_PER_USER) return new Response(null, { status: 429 });
    const orderId = new URL(request.url).pathname.split('/')[2] ?? '';
    const { 0: client, 1: server } = new WebSocketPair();
    this.ctx.acceptWebSocket(server, [userId]);
    // Not primed yet: a push that arrives while the state is being read skips this socket and
    // is caught up below (this.latest).
    attach(server, { userId, seen: null, lastActivityAt: Date.now() });
    const current = newest(await this.currentState(orderId), this.latest);
    if (current) {
      const { message, seen } = stateMessage(current);
      send(server, message);
      attach(server, { userId, seen, lastActivityAt: Date.now() });
      if (hasEnded(seen)) server.close(CLOSE.ended, 'order ended');
    } else {
      server.close(CLOSE.ended, 'no such order');
    }
    await this.armAlarm(Date.now() + config.LIVE_IDLE_TIMEOUT_MS);
    return new Response(null, { status: 101, webSocket: client });
  }

  /** The saga's state after a save: each primed socket is told what changed, and closed after a terminal status. */
  async publish(snapshot: LiveSnapshot): Promise<void> {
    this.latest = newest(snapshot, this.latest);
    for (const socket of this.ctx.getWebSockets()) this.tell(socket, snapshot);
  }

  override async webSocketMessage(socket: WebSocket, message: string | ArrayBuffer): Promise<void> {
    const size = typeof message === 'string' ? new TextEncoder().encode(message).byteLength : message.byteLength;
    if (size > liveConfig(this.env).LIVE_MAX_MESSAGE_BYTES) {
      socket.close(CLOSE.tooBig, 'message too big');
      return;
    }
    // Anything else a watcher says is ignored (it only listens); `ping` never reaches here.
  }

  override async webSocketClose(socket: WebSocket, code: number, reason: string): Promise<void> {
    try {
      socket.close(code === 1005 || code === 1006 ? 1000 : code, reason);
    } catch {
      // Already closed from this side.
    }
  }

  /** Closes idle sockets and expired tickets, then sleeps until the next deadline (or for good). */
  override async alarm(): Promise<void> {
    const now = Date.now();
    const config = liveConfig(this.env);
    let next = Number.POSITIVE_INFINITY;
    for (const socket of this.ctx.getWebSockets()) {
      const attachment = socket.deserializeAttachment() as Attachment | null;
      const pinged = this.ctx.getWebSocketAutoResponseTimestamp(socket)?.getTime() ?? 0;
      const deadline = Math.max(attachment?.lastActivityAt ?? 0, pinged) + config.LIVE_IDLE_TIMEOUT_MS;
      if (deadline <= now) socket.close(CLOSE.idle, 'idle');
      else next = Math.min(next, deadline);
    }
    const tickets = await this.ctx.storage.list<Ticket>({ prefix: TICKET_PREFIX });
    const expired = [...tickets].filter(([, ticket]) => ticket.expiresAt <= now).map(([key]) => key);
    if (expired.length) await this.ctx.storage.delete(expired);
    for (const [, ticket] of tickets) if (ticket.expiresAt > now) next = Math.min(next, ticket.expiresAt);
    if (Number.isFinite(next)) await this.ctx.storage.setAlarm(next);
  }

  private tell(socket: WebSocket, snapshot: LiveSnapshot): void {
    const attachment = socket.deserializeAttachment() as Attachment | null;
    if (!attachment?.seen) return;
    const { messages, seen } = changesSince(attachment.seen, snapshot);
    if (!messages.length) return;
    for (const message of messages) send(socket, message);
    attach(socket, { ...attachment, seen, lastActivityAt: Date.now() });
    if (hasEnded(seen)) socket.close(CLOSE.ended, 'order ended');
  }

  /**
   * The order as it stands: the saga's own state (it also starts pushing to us from here), or,
   * once an ended saga's storage is gone, its D1 row. Null when there is no such order.
   */
  private async currentState(orderId: string): Promise<LiveSnapshot | null> {
    const saga = this.env.ORDER_SAGA.get(this.env.ORDER_SAGA.idFromName(orderId));
    const watched = await saga.watch();
    if (watched) return watched;
    const row = await drizzle(this.env.DB).select({ status: orders.status, saga: orders.saga }).from(orders).where(eq(orders.id, orderId)).get();
    if (!row) return null;
    const steps: LiveStep[] = (JSON.parse(row.saga) as TimelineStep[])
      // The row's timeline also holds the saga's history (stuck, operator actions): steps only.
      .filter((step) => !step.name.includes(':') && step.name !== 'stuck' && step.name !== 'recovered')
      .map(({ name, status, attempts }) => ({ name, status, attempts }));
    // The row is the last word: no push can be newer than an order whose saga storage is gone.
    return { orderId, revision: Number.MAX_SAFE_INTEGER, status: row.status as SagaStatus, steps };
  }

  /** An alarm at `at` unless one is due sooner. */
  private async armAlarm(at: number): Promise<void> {
    const current = await this.ctx.storage.getAlarm();
    if (current === null || current > at) await this.ctx.storage.setAlarm(at);
  }
}

const attach = (socket: WebSocket, attachment: Attachment) => socket.serializeAttachment(attachment);

function send(socket: WebSocket, message: LiveMessage): void {
  try {
    socket.send(JSON.stringify(message));
  } catch {
    // The client went away; its close event tidies up.
  }
}

const newest = (a: LiveSnapshot | null, b: LiveSnapshot | null): LiveSnapshot | null => (!a ? b : !b ? a : b.revision > a.revision ? b : a);
