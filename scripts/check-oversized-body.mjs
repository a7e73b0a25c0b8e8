#!/usr/bin/env node
// Against a running suite (`npm run dev`): a chunked request body over the 1 MiB limit must get
// 413, and the next write, from another client, must go through. Before the body limit read an
// oversized chunked body to its end (shared/middleware/body-limit.ts says why), the next POST or
// PUT got 503 "Your worker restarted mid-request" from wrangler dev's proxy and was not applied.
//
//   node scripts/check-oversized-body.mjs [--url http://127.0.0.1:8787] [--times 10]
//
// Logs in as the seeded demo user, then, `--times` times: a chunked 1.2 MB POST to
// /api/ledger/accounts on its own connection, then a valid account opening on another. Exits 0
// only if every oversized body got 413 and every write after it 201.
import http from 'node:http';
import { parseArgs } from 'node:util';

const { values } = parseArgs({ options: { url: { type: 'string', default: `http://127.0.0.1:${process.env.PORT ?? 8787}` }, times: { type: 'string', default: '10' } } });
const base = new URL(values.url);
const times = Number(values.times);

const login = await fetch(new URL('/api/users/login', base), {
  method: 'POST',
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify({ email: 'demo@example.com', password: 'demo-password-123' }),
});
if (!login.ok) throw new Error(`login answered ${login.status}: is the suite running at ${base.origin}?`);
const { accessToken } = await login.json();

/** A 1.2 MB body in 64 KiB chunks (Transfer-Encoding: chunked, no Content-Length), on a connection of its own. */
const oversized = () =>
  new Promise((resolve) => {
    const request = http.request(
      { host: base.hostname, port: base.port, method: 'POST', path: '/api/ledger/accounts', agent: false, headers: { 'content-type': 'application/json', 'transfer-encoding': 'chunked', authorization: `Bearer ${accessToken}` } },
      (response) => {
        response.resume();
        response.on('end', () => resolve(response.statusCode));
      },
    );
    request.on('error', (error) => resolve(`error: ${error.message}`));
    const chunk = Buffer.alloc(64 * 1024, 'a');
    let sent = 0;
    const write = () => {
      while (sent < 1_200_000) {
        sent += chunk.length;
        if (!request.write(chunk)) return void request.once('drain', write);
      }
      request.end();
    };
    write();
  });

const write = async () => {
  const response = await fetch(new URL('/api/ledger/accounts', base), {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${accessToken}`, 'idempotency-key': crypto.randomUUID() },
    body: JSON.stringify({ owner: 'Body limit check', currency: 'EUR', initialDepositCents: 1 }),
  });
  const text = await response.text();
  return { status: response.status, text };
};

let passed = 0;
for (let i = 1; i <= times; i++) {
  const big = await oversized();
  const next = await write();
  const ok = big === 413 && next.status === 201;
  if (ok) passed++;
  console.log(`${i}: oversized chunked body ${big}, next write ${next.status}${ok ? '' : `  ${next.text.slice(0, 160)}`}`);
}
console.log(`${passed}/${times} passed`);
process.exit(passed === times ? 0 : 1);
