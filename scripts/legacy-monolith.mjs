#!/usr/bin/env node
// The legacy monolith behind the strangler fig: a plain Node HTTP server standing for the old
// application the suite is carving up. The gateway sends it every path nothing else claims (its
// `legacy` origin pool, ORIGIN_POOLS); `/api/users/*` was carved out of it and goes to the users
// worker instead, although the old users API below still answers when called directly.
// `npm run dev` starts it on :8790 (LEGACY_PORT); on its own: node scripts/legacy-monolith.mjs --port 8790
// No framework: a handful of fixed endpoints, in memory, reset on restart.
import { createServer } from 'node:http';
import { fileURLToPath } from 'node:url';

export const SERVED_BY = 'legacy';

const USERS = [
  { user_id: 1, full_name: 'Ada Lovelace', email_address: 'ada@legacy.example', member_since: '2009-03-14' },
  { user_id: 2, full_name: 'Grace Hopper', email_address: 'grace@legacy.example', member_since: '2011-12-09' },
];
const STORES = [
  { store_code: 'BER-01', city: 'Berlin', opens: '09:00', closes: '20:00' },
  { store_code: 'LIS-02', city: 'Lisbon', opens: '10:00', closes: '19:00' },
];

/** The endpoints it still owns, as its home page lists them. */
export const LEGACY_ENDPOINTS = ['GET /', 'GET /health', 'GET /about', 'GET /api/stores', 'POST /api/newsletter', 'GET /api/users (carved out: the users worker answers through the gateway)', 'GET /api/users/:id (carved out)'];

function send(response, status, body, headers = {}) {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  response.writeHead(status, {
    'content-type': typeof body === 'string' ? 'text/plain; charset=utf-8' : 'application/json',
    'content-length': Buffer.byteLength(text),
    'x-served-by': SERVED_BY,
    ...headers,
  });
  response.end(text);
}

async function readJson(request) {
  const chunks = [];
  let size = 0;
  for await (const chunk of request) {
    size += chunk.length;
    if (size > 64 * 1024) return null;
    chunks.push(chunk);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    return null;
  }
}

/** One request; `failing` makes every answer (its health check too) a 503, for tests and demos. */
async function handle(request, response, state) {
  const url = new URL(request.url ?? '/', 'http://legacy.invalid');
  const path = url.pathname.replace(/\/+$/, '') || '/';
  state.requests++;
  if (state.failing) return send(response, 503, { error: 'the monolith is down for maintenance' });
  const method = request.method ?? 'GET';
  if (method === 'GET' && path === '/health') return send(response, 200, { status: 'ok' });
  if (method === 'GET' && path === '/') {
    return send(response, 200, { app: 'stratus legacy monolith', version: '1.9.4', endpoints: LEGACY_ENDPOINTS, requestId: request.headers['x-request-id'] ?? null });
  }
  if (method === 'GET' && path === '/about') return send(response, 200, 'Stratus Outdoor Supplies, since 2009. This page is served by the old monolith.');
  if (method === 'GET' && path === '/api/stores') return send(response, 200, { stores: STORES });
  if (method === 'POST' && path === '/api/newsletter') {
    const body = await readJson(request);
    if (!body || typeof body.email !== 'string' || !body.email.includes('@')) return send(response, 400, { error: 'email required' });
    return send(response, 201, { subscribed: body.email });
  }
  // The old users API: the shape the users worker replaced (snake_case, numeric ids).
  if (method === 'GET' && path === '/api/users') return send(response, 200, { users: USERS });
  const user = path.match(/^\/api\/users\/(\d+)$/);
  if (method === 'GET' && user) {
    const found = USERS.find((u) => u.user_id === Number(user[1]));
    return found ? send(response, 200, found) : send(response, 404, { error: 'no such user' });
  }
  return send(response, 404, { error: `the monolith has no ${method} ${path}` });
}

/**
 * Starts the monolith on `port` (0: any free one). Resolves with its base URL, a switch that makes
 * it fail every request (`setFailing`), a request count, and `close()`.
 * @param {{ port?: number, host?: string }} [options]
 */
export function startLegacyMonolith({ port = 8790, host = '127.0.0.1' } = {}) {
  const state = { failing: false, requests: 0 };
  const server = createServer((request, response) => {
    handle(request, response, state).catch(() => {
      if (!response.headersSent) send(response, 500, { error: 'internal error' });
      else response.destroy();
    });
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      const address = server.address();
      resolve({
        url: `http://${host}:${typeof address === 'object' && address ? address.port : port}`,
        setFailing: (failing) => void (state.failing = failing),
        requests: () => state.requests,
        close: () =>
          new Promise((done) => {
            server.close(() => done());
            server.closeAllConnections?.();
          }),
      });
    });
  });
}

/** The gateway's ORIGIN_POOLS value that puts this monolith behind its `legacy` route. */
export const legacyOriginPools = (url) => JSON.stringify({ legacy: [{ name: 'monolith', url }] });

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const index = process.argv.indexOf('--port');
  const port = Number(index === -1 ? (process.env.LEGACY_PORT ?? 8790) : process.argv[index + 1]);
  const monolith = await startLegacyMonolith({ port });
  console.log(`legacy monolith on ${monolith.url}`);
  for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => monolith.close().then(() => process.exit(0)));
}
