import { portableGateway } from './gateway-app';

/**
 * The gateway on Deno: `deno serve --port 8788 --allow-net --allow-env runtimes/deno.ts`
 * (runtimes/gateway-app.ts says what it serves; the README lists the variables). `deno serve`
 * takes its port and host from its flags, not from PORT.
 */
declare const Deno: { env: { toObject(): Record<string, string> }; version: { deno: string } };
interface DenoServeInfo {
  remoteAddr: { hostname: string };
}

const gateway = portableGateway('deno', Deno.env.toObject());
console.log(JSON.stringify({ level: 'info', service: 'gateway', msg: 'gateway on Deno', runtime: Deno.version.deno, routes: gateway.routes.map((route) => route.prefix) }));

export default {
  fetch: (request: Request, info: DenoServeInfo) => gateway.fetch(request, info.remoteAddr.hostname),
};
