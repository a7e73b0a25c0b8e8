#!/usr/bin/env node
// A local stand-in for QStash (Upstash's HTTP message queue), so publishing, fan-out, queues,
// retries, the DLQ and signed deliveries run on a laptop and in tests with no account and no
// network. The official @upstash/qstash Client and Receiver work against it unchanged.
//
//   node scripts/qstash-server.mjs            (port from QSTASH_PORT, default 8080)
//   then QSTASH_URL=http://127.0.0.1:8080 QSTASH_TOKEN=<printed token>
//
// It speaks the REST API as @upstash/qstash 2.12 calls it (see scripts/qstash/routes.mjs):
// publish to a URL or URL group, enqueue, batch, messages get/cancel, DLQ list/get/delete/retry,
// queues, URL groups (topics), schedules, keys and key rotation. Deliveries carry the headers QStash sends
// (Upstash-Message-Id, Upstash-Retried, Upstash-Topic-Name, Upstash-Signature, forwarded headers)
// and are retried with QStash's backoff, or as the destination's Retry-After / X-RateLimit-Reset
// asks; 489 with Upstash-NonRetryable-Error is dead-lettered at once. See scripts/qstash/engine.mjs
// for the rules and docs/local-qstash.md for the QStash facts this server matches.
// Schedules (cron, in UTC) too. Not here: flow control limits, the logs/events API, LLM/email APIs.
//
// State (messages, delays, retries, queues, URL groups, schedules, the DLQ, dedup ids, keys) is kept under
// .wrangler/state/qstash by default and survives a restart; --memory keeps nothing.
//
// Knobs tests need that QStash does not have: retryDelayScale and delayScale (run the clock
// faster), duplicateRate with a seedable random (at-least-once made visible), stats() and
// waitForIdle() (know when everything has settled without sleeping).
import { createServer } from 'node:http';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { QStashEngine } from './qstash/engine.mjs';
import { LOCAL_QSTASH_CURRENT_SIGNING_KEY, LOCAL_QSTASH_NEXT_SIGNING_KEY, LOCAL_QSTASH_PORT, LOCAL_QSTASH_TOKEN } from './qstash/local-credentials.mjs';
import { DEDUP_RETENTION_MS, planNamed } from './qstash/plans.mjs';
import { createHandler } from './qstash/routes.mjs';
import { seededRandom } from './qstash/seeded-random.mjs';
import { StateStore } from './qstash/state-store.mjs';
import { parseDuration } from './qstash/timing.mjs';
import { PERSIST_DIR } from './workers.mjs';

/** Where the CLI and `npm run dev` keep the local QStash's state: beside wrangler's local state. */
export const QSTASH_STATE_DIR = join(PERSIST_DIR, 'qstash');

export { seededRandom };

/**
 * Starts the server. Every option has a default; the credentials default to the fixed local-only
 * ones in scripts/qstash/local-credentials.mjs.
 */
export async function startQStashServer({
  port = 0,
  host = '127.0.0.1',
  token = LOCAL_QSTASH_TOKEN,
  currentSigningKey = LOCAL_QSTASH_CURRENT_SIGNING_KEY,
  nextSigningKey = LOCAL_QSTASH_NEXT_SIGNING_KEY,
  plan = 'free',
  maxRetries,
  dedupRetentionMs = DEDUP_RETENTION_MS,
  dlqRetentionMs,
  stateDir,
  retryDelayScale = 1,
  delayScale = 1,
  deliveryTimeoutMs = 30_000,
  duplicateRate = 0,
  random = Math.random,
  log,
} = {}) {
  if (!token) throw new Error('startQStashServer needs a token');
  if (!currentSigningKey || !nextSigningKey) throw new Error('startQStashServer needs both signing keys');
  if (!(duplicateRate >= 0 && duplicateRate <= 1)) throw new Error(`duplicateRate must be between 0 and 1, not ${duplicateRate}`);
  if (!(retryDelayScale >= 0) || !(delayScale >= 0)) throw new Error('retryDelayScale and delayScale must be 0 or more');
  const planRow = planNamed(plan);
  const store = stateDir === undefined ? undefined : new StateStore(stateDir);
  const engine = new QStashEngine({
    currentSigningKey,
    nextSigningKey,
    maxRetries: maxRetries ?? planRow.defaultRetries,
    dedupRetentionMs,
    dlqRetentionMs: dlqRetentionMs ?? planRow.dlqRetentionMs,
    store,
    retryDelayScale,
    delayScale,
    deliveryTimeoutMs,
    duplicateRate,
    random,
    log,
  });
  const server = createServer(createHandler(engine, { token, log }));
  await new Promise((resolve, reject) => {
    server.once('error', (error) => {
      engine.close();
      reject(error);
    });
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve(undefined);
    });
  });
  const { port: boundPort } = /** @type {import('node:net').AddressInfo} */ (server.address());
  const urlHost = host.includes(':') ? `[${host}]` : host;
  return {
    url: `http://${urlHost}:${boundPort}`,
    token,
    get currentSigningKey() {
      return engine.keys.current;
    },
    get nextSigningKey() {
      return engine.keys.next;
    },
    routeOrigin: (from, to) => engine.routeOrigin(from, to),
    stats: () => engine.stats(),
    waitForIdle: (options) => engine.waitForIdle(options),
    async close() {
      // Connections first, so no publish is answered after the state store has closed.
      const closed = new Promise((resolve) => server.close(() => resolve(undefined)));
      server.closeAllConnections();
      engine.close();
      await closed;
    },
  };
}

async function main() {
  const env = process.env;
  const { values } = parseArgs({
    options: {
      port: { type: 'string', default: env.QSTASH_PORT || String(LOCAL_QSTASH_PORT) },
      host: { type: 'string', default: '127.0.0.1' },
      'retry-delay-scale': { type: 'string', default: env.QSTASH_RETRY_DELAY_SCALE || '1' },
      plan: { type: 'string', default: env.QSTASH_PLAN || 'free' },
      'state-dir': { type: 'string', default: env.QSTASH_STATE_DIR || QSTASH_STATE_DIR },
      memory: { type: 'boolean', default: false },
      'dedup-retention': { type: 'string', default: env.QSTASH_DEDUP_RETENTION || '90d' },
      'duplicate-rate': { type: 'string', default: env.QSTASH_DUPLICATE_RATE || '0' },
      seed: { type: 'string', default: env.QSTASH_SEED },
      quiet: { type: 'boolean', short: 'q', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    console.log(
      'usage: node scripts/qstash-server.mjs [--port 8080] [--host 127.0.0.1] [--plan free|paid] [--state-dir DIR | --memory]\n' +
        '         [--dedup-retention 90d] [--retry-delay-scale 1] [--duplicate-rate 0] [--seed N] [--quiet]\n' +
        '--plan sets the default retries (free 3, paid 5) and DLQ retention (3 / 7 days); env QSTASH_PLAN.\n' +
        `--state-dir is where messages, the DLQ, queues and URL groups survive a restart (default ${QSTASH_STATE_DIR}).\n` +
        'QSTASH_TOKEN, QSTASH_CURRENT_SIGNING_KEY and QSTASH_NEXT_SIGNING_KEY override the local-only defaults.',
    );
    return;
  }
  const dedupRetentionMs = parseDuration(values['dedup-retention']);
  if (dedupRetentionMs === undefined) throw new Error(`--dedup-retention "${values['dedup-retention']}" is not a duration like 90d or 12h`);
  const server = await startQStashServer({
    port: Number(values.port),
    plan: values.plan,
    stateDir: values.memory ? undefined : values['state-dir'],
    dedupRetentionMs,
    host: values.host,
    token: env.QSTASH_TOKEN || LOCAL_QSTASH_TOKEN,
    currentSigningKey: env.QSTASH_CURRENT_SIGNING_KEY || LOCAL_QSTASH_CURRENT_SIGNING_KEY,
    nextSigningKey: env.QSTASH_NEXT_SIGNING_KEY || LOCAL_QSTASH_NEXT_SIGNING_KEY,
    retryDelayScale: Number(values['retry-delay-scale']),
    duplicateRate: Number(values['duplicate-rate']),
    random: values.seed === undefined ? Math.random : seededRandom(Number(values.seed)),
    log: values.quiet ? undefined : (line) => console.log(`[qstash] ${line}`),
  });
  const kept = values.memory ? 'in memory' : `state in ${values['state-dir']}`;
  console.log(`local QStash on ${server.url} (${values.plan} plan; ${kept}; local-only credentials)`);
  console.log(`  QSTASH_URL=${server.url}`);
  console.log(`  QSTASH_TOKEN=${server.token}`);
  console.log(`  QSTASH_CURRENT_SIGNING_KEY=${server.currentSigningKey}`);
  console.log(`  QSTASH_NEXT_SIGNING_KEY=${server.nextSigningKey}`);
  const stop = () => server.close().then(() => process.exit(0));
  for (const signal of ['SIGINT', 'SIGTERM']) process.once(signal, stop);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((error) => {
    console.error(error.message);
    process.exit(1);
  });
}
