import { DurableObject } from 'cloudflare:workers';
import { createLogger, isLogLevel, type Logger } from '../../../shared/observability/logger';
import { gatewayConfig } from '../config';
import type { GatewayBindings } from '../env';
import { breakersView, recentSagas } from './live-views';

/** What each operator's socket carries across hibernation: the name they gave. */
interface Attachment {
  name: string;
}

interface Ticket {
  name: string;
  expiresAt: number;
}

const TICKET_PREFIX = 'ticket:';
/** A ticket waits this long for its one use. */
const TICKET_TTL_MS = 30_000;
/** Sockets at once, over all operators: a dashboard is a handful of people, not a crowd. */
const MAX_SOCKETS = 50;
/** How often the panels' data is read while someone watches (the dashboard polled every 2 s). */
const REFRESH_MS = 2_000;
/** Saga rows the panel shows. */
const SAGA_LIMIT = 10;
/** Operators have nothing to say over the socket but `ping`; more than this closes it. */
const MAX_MESSAGE_BYTES = 1_024;

/**
 * The ops dashboard's socket (`GET /_ops/live?ticket=`), one object for the deployment. While at
 * least one operator is connected it reads the breakers and the latest sagas every 2 s, on its
 * alarm (no timer of its own), and sends each only when it changed: one read for every operator
 * instead of one poll per open dashboard, and nothing on the wire while nothing moves. It tells
 * everyone who is connected (`{type:"presence", count, names}`) whenever someone comes or goes.
 * With nobody connected it has no alarm and no storage but tickets, each gone at its use or in
 * 30 s. WebSocket Hibernation API: between alarms the object may leave memory; each socket keeps
 * its operator's name in its attachment, and the last data sent is read again after a wake (so a
 * wake sends one unchanged copy, at most).
 *
 * Messages: `{type:"breakers", breakers}` as `GET /_ops/breakers`, `{type:"sagas", sagas}` as
 * `GET /_ops/sagas?limit=10`, `{type:"presence", count, names}`, `{type:"error", panel, message}`.
 */
export class OpsLive extends DurableObject<GatewayBindings> {
  private last: Record<'breakers' | 'sagas', string | undefined> = { breakers: undefined, sagas: undefined };

  constructor(ctx: DurableObjectState, env: GatewayBindings) {
    super(ctx, env);
    ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair('ping', 'pong'));
  }

  private log(): Logger {
    return createLogger({ service: 'gateway', component: 'ops-live' }, { level: isLogLevel(this.env.LOG_LEVEL) ? this.env.LOG_LEVEL : 'info' });
  }

  /** A one-time ticket for an operator (the route checked the ops token) who calls themselves `name`. */
  async issueTicket(name: string): Promise<{ ticket: string; expiresIn: number }> {
    const bytes = crypto.getRandomValues(new Uint8Array(32));
    const ticket = btoa(String.fromCharCode(...bytes)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
    const expiresAt = Date.now() + TICKET_TTL_MS;
    await this.ctx.storage.put<Ticket>(`${TICKET_PREFIX}${ticket}`, { name, expiresAt });
    await this.armAlarm(expiresAt);
    return { ticket, expiresIn: TICKET_TTL_MS / 1000 };
  }

  /**
   * The upgrade: 401 for a ticket unknown, used or expired (read and deleted with no other I/O
   * between, so it opens one socket), 429 past MAX_SOCKETS; else the socket, its first data
   * sent at once, and everyone told the new presence.
   */
  override async fetch(request: Request): Promise<Response> {
    const ticket = new URL(request.url).searchParams.get('ticket') ?? '';
    const key = `${TICKET_PREFIX}${ticket}`;
    const found = await this.ctx.storage.get<Ticket>(key);
    if (found) await this.ctx.storage.delete(key);
    if (!found || found.expiresAt <= Date.now()) return new Response(null, { status: 401 });
    if (this.ctx.getWebSockets().length >= MAX_SOCKETS) return new Response(null, { status: 429 });
    const { 0: client, 1: server } = new WebSocketPair();
    this.ctx.acceptWebSocket(server);
    server.serializeAttachment({ name: found.name } satisfies Attachment);
    this.broadcastPresence();
    // The newcomer gets the panels now, not at the next change.
    this.last = { breakers: undefined, sagas: undefined };
    await this.refresh();
    await this.armAlarm(Date.now() + REFRESH_MS);
    return new Response(null, { status: 101, webSocket: client });
  }

  override async webSocketMessage(socket: WebSocket, message: string | ArrayBuffer): Promise<void> {
    const size = typeof message === 'string' ? new TextEncoder().encode(message).byteLength : message.byteLength;
    if (size > MAX_MESSAGE_BYTES) socket.close(1009, 'message too big');
  }

  override async webSocketClose(socket: WebSocket, code: number, reason: string): Promise<void> {
    try {
      socket.close(code === 1005 || code === 1006 ? 1000 : code, reason);
    } catch {
      // Already closed from this side.
    }
    this.broadcastPresence(socket);
  }

  /** Reads and sends what changed while anyone watches; drops expired tickets; sleeps for good when nobody is left. */
  override async alarm(): Promise<void> {
    const now = Date.now();
    const tickets = await this.ctx.storage.list<Ticket>({ prefix: TICKET_PREFIX });
    const expired = [...tickets].filter(([, t]) => t.expiresAt <= now).map(([key]) => key);
    if (expired.length) await this.ctx.storage.delete(expired);
    const pending = [...tickets.values()].filter((t) => t.expiresAt > now).map((t) => t.expiresAt);
    if (this.ctx.getWebSockets().length) {
      await this.refresh();
      await this.ctx.storage.setAlarm(Date.now() + REFRESH_MS);
    } else if (pending.length) {
      await this.ctx.storage.setAlarm(Math.min(...pending));
    }
  }

  /** Each panel's data, sent to everyone when it differs from what was sent last. */
  private async refresh(): Promise<void> {
    const timeoutMs = gatewayConfig(this.env).READY_TIMEOUT_MS;
    const reads = {
      breakers: () => breakersView(this.env, (upstream, error) => this.log().warn('breaker state unreadable', { upstream, error })),
      sagas: () => recentSagas(this.env, SAGA_LIMIT, timeoutMs),
    };
    await Promise.all(
      (Object.keys(reads) as (keyof typeof reads)[]).map(async (panel) => {
        let text: string;
        try {
          const data = await reads[panel]();
          text = JSON.stringify({ type: panel, [panel]: data });
        } catch (error) {
          // The dashboard keeps its last picture and says the panel failed (it polls that one meanwhile).
          text = JSON.stringify({ type: 'error', panel, message: error instanceof Error ? error.message : String(error) });
        }
        if (text === this.last[panel]) return;
        this.last[panel] = text;
        this.broadcast(text);
      }),
    );
  }

  private broadcastPresence(leaving?: WebSocket): void {
    const names = this.ctx
      .getWebSockets()
      .filter((socket) => socket !== leaving && socket.readyState === WebSocket.OPEN)
      .map((socket) => (socket.deserializeAttachment() as Attachment | null)?.name ?? 'operator');
    this.broadcast(JSON.stringify({ type: 'presence', count: names.length, names: names.sort() }));
  }

  private broadcast(text: string): void {
    for (const socket of this.ctx.getWebSockets()) {
      try {
        socket.send(text);
      } catch {
        // Closing; its close event updates the presence.
      }
    }
  }

  private async armAlarm(at: number): Promise<void> {
    const current = await this.ctx.storage.getAlarm();
    if (current === null || current > at) await this.ctx.storage.setAlarm(at);
  }
}
