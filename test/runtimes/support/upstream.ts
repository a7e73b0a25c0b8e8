import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request as a stand-in service received it. */
export interface ReceivedCall {
  method: string;
  /** Path and query, as the gateway rewrote them. */
  url: string;
  /** Whether the gateway's service token came along (every call to a service carries one). */
  serviceToken: boolean;
  /** The caller's Authorization must never leave the gateway. */
  authorization: boolean;
}

export interface StandInService {
  name: string;
  /** http://127.0.0.1:<port> */
  url: string;
  /** Every call received, in order. */
  calls: ReceivedCall[];
  /** The headers of the last call made for a caller (not a background refresh, see callerCalls). */
  lastHeaders: IncomingMessage['headers'];
  /**
   * The calls made for callers, without the gateway's own background refreshes of a fallback
   * source (the catalog route's `degraded` list, routes.ts), which come when they come.
   */
  callerCalls(): ReceivedCall[];
  /** While true, every call is answered 503 (problem+json), as a failing service would. */
  failing: boolean;
  close(): Promise<void>;
}

/** What the gateway fetches on its own: the catalog route's degraded-fallback source (routes.ts). */
const BACKGROUND_PATHS = ['/products/popular'];

/**
 * A tiny service behind the gateway under test, on a free loopback port: it answers every call
 * with what it received (so a test sees the path the gateway rewrote), records it, and can be
 * told to fail. Given `jwks`, it also publishes them at /.well-known/jwks.json, as users does.
 */
export async function startStandIn(name: string, { jwks }: { jwks?: unknown } = {}): Promise<StandInService> {
  const service: StandInService = {
    name,
    url: '',
    calls: [],
    lastHeaders: {},
    callerCalls: () => service.calls.filter((call) => !BACKGROUND_PATHS.some((path) => call.url.startsWith(path))),
    failing: false,
    close: async () => undefined,
  };
  const server = createServer((request: IncomingMessage, response: ServerResponse) => {
    request.resume();
    request.on('end', () => {
      if (!BACKGROUND_PATHS.some((path) => request.url?.startsWith(path))) service.lastHeaders = request.headers;
      service.calls.push({
        method: request.method ?? '',
        url: request.url ?? '',
        serviceToken: typeof request.headers['x-stratus-service-token'] === 'string',
        authorization: request.headers.authorization !== undefined,
      });
      if (jwks !== undefined && request.url === '/.well-known/jwks.json') {
        // As the users service publishes its keys: what the gateway verifies access tokens with.
        response.writeHead(200, { 'content-type': 'application/json' });
        response.end(JSON.stringify(jwks));
        return;
      }
      if (service.failing) {
        response.writeHead(503, { 'content-type': 'application/problem+json' });
        response.end(JSON.stringify({ type: 'about:blank', title: 'Service Unavailable', status: 503 }));
        return;
      }
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ service: name, method: request.method, url: request.url }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  service.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  service.close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return service;
}
