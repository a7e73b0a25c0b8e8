import type { Route } from '../routes';

/**
 * WebSockets through the gateway. `Upgrade` is a hop-by-hop header, stripped from every request
 * (proxy.ts), except on the upstream paths a route lists in `websocketPaths`: only there does a
 * `GET` with `Upgrade: websocket` reach the service as an upgrade, and the socket the service
 * answers with (101) is handed to the client as it is. The caller is checked BEFORE the upgrade,
 * as for any request of the route (route-table.ts): an access token, or, for clients that cannot
 * set headers (browsers), a one-time `?ticket=` the service itself redeems.
 *
 * The per-connection limits (sockets per user, message size, idle timeout) are the service's:
 * the runtime pipes an upgraded socket from the service to the client without running the
 * gateway's code per message (that is what lets the service's object hibernate), so the one
 * place that sees every message and every socket of an order is the service's object.
 */

/** A ticket as the services issue them: 32 random bytes, base64url (43 characters). */
const TICKET = /^[A-Za-z0-9_-]{43}$/;

const compiled = new WeakMap<Route, RegExp[]>();

/** `/orders/:id/live` → a pattern where `:id` is one path segment. */
function patternsOf(route: Route): RegExp[] {
  let patterns = compiled.get(route);
  if (!patterns) {
    patterns = (route.policy.websocketPaths ?? []).map(
      (path) => new RegExp(`^${path.split('/').map((part) => (part.startsWith(':') ? '[^/]+' : part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))).join('/')}$`),
    );
    compiled.set(route, patterns);
  }
  return patterns;
}

/** Whether this request asks for a WebSocket on an upstream path of `route` that allows one. */
export function isAllowedUpgrade(route: Route, upstreamPath: string, request: Request): boolean {
  if (request.method !== 'GET' || request.headers.get('upgrade')?.toLowerCase() !== 'websocket') return false;
  return patternsOf(route).some((pattern) => pattern.test(upstreamPath));
}

/** Whether the request carries a well-formed `?ticket=` (the service decides whether it is a good one). */
export const carriesTicket = (request: Request): boolean => TICKET.test(new URL(request.url).searchParams.get('ticket') ?? '');

/**
 * The service's 101 with its socket, as the gateway answers it: a fresh response (the service's
 * headers are immutable, and the gateway's middleware adds its own), the same socket.
 */
export function upgradedResponse(response: Response): Response {
  if (response.status !== 101 || !response.webSocket) return response;
  return new Response(null, { status: 101, webSocket: response.webSocket });
}
