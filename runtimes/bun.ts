import { portableGateway } from './gateway-app';

/**
 * The gateway on Bun: `bun run runtimes/bun.ts` (runtimes/gateway-app.ts says what it serves;
 * the README lists the variables). Bun serves the default export's `fetch` on `port`.
 */
declare const Bun: { env: Record<string, string | undefined>; version: string };
interface BunServer {
  requestIP(request: Request): { address: string } | null;
}

const gateway = portableGateway('bun', Bun.env);
console.log(JSON.stringify({ level: 'info', service: 'gateway', msg: 'gateway on Bun', runtime: Bun.version, port: gateway.config.port, routes: gateway.routes.map((route) => route.prefix) }));

export default {
  port: gateway.config.port,
  hostname: gateway.config.hostname,
  fetch: (request: Request, server: BunServer) => gateway.fetch(request, server.requestIP(request)?.address),
};
