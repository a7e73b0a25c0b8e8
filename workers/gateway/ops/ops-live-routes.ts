import { Hono } from 'hono';
import { z } from 'zod';
import { HttpError, unauthorized } from '../../../shared/http/problem';
import type { AppEnv } from '../../../shared/middleware/app-env';
import { validate } from '../../../shared/validation/validate';
import type { GatewayBindings } from '../env';

/**
 * The ops dashboard's WebSocket (ops-live-object.ts). Browsers cannot set `Authorization` on a
 * WebSocket, so the page first asks `POST /_ops/live/ticket` with the ops token as usual (a
 * header, like every /_ops call) and opens `GET /_ops/live?ticket=` with the one-time ticket it
 * gets. Chosen over the token in a subprotocol (`Sec-WebSocket-Protocol`): that would send the
 * long-lived operator token on every connection, in a header proxies log and echo back, and an
 * operator token may hold characters a subprotocol name cannot; a ticket is spent on first use
 * and dead in 30 s, so a URL that leaks opens nothing.
 */
const liveObject = (env: GatewayBindings) => env.OPS_LIVE.get(env.OPS_LIVE.idFromName('ops'));

const TICKET = /^[A-Za-z0-9_-]{43}$/;

/** `GET /_ops/live?ticket=`: mounted before the ops token's check (the ticket is the credential), and checked before the upgrade. */
export const opsLiveUpgrade = new Hono<AppEnv<GatewayBindings>>().get('/live', async (c) => {
  c.set('routeLabel', '/_ops/live');
  if (c.req.header('upgrade')?.toLowerCase() !== 'websocket') throw new HttpError(426, { detail: 'This is a WebSocket: send Upgrade: websocket.', headers: { upgrade: 'websocket' } });
  const ticket = c.req.query('ticket') ?? '';
  const refused = () => unauthorized('The ticket is unknown, used or expired: ask POST /_ops/live/ticket (with the ops token) for another.', { 'www-authenticate': 'Bearer realm="stratus-ops"' });
  if (!TICKET.test(ticket)) throw refused();
  const response = await liveObject(c.env).fetch(`https://ops-live.internal/live?ticket=${ticket}`, { headers: { upgrade: 'websocket' } });
  if (response.status === 401) throw refused();
  if (response.status === 429) throw new HttpError(429, { detail: 'Too many dashboard sockets are open.', headers: { 'retry-after': '10' } });
  if (response.status !== 101 || !response.webSocket) throw new HttpError(502, { detail: `The dashboard's live object answered ${response.status}.` });
  return new Response(null, { status: 101, webSocket: response.webSocket });
});

/** `POST /_ops/live/ticket {name?}`: behind the ops token (mounted in ops.ts); `name` is what the other operators see. */
export const opsLiveTicket = new Hono<AppEnv<GatewayBindings>>().post(
  '/ticket',
  validate('json', z.strictObject({ name: z.string().trim().min(1).max(40).optional() })),
  async (c) => c.json(await liveObject(c.env).issueTicket(c.req.valid('json').name ?? 'operator'), 201),
);
