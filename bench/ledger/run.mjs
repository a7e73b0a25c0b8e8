#!/usr/bin/env node
// `npm run bench:ledger`: the event-sourced ledger (issue 6, point 8), the whole suite in one
// Miniflare with the local QStash (scripts/local-suite.mjs), recorded in bench/RESULTS.md (never
// asserted):
//   (1) appends/s on ONE stream (deposits to one account) vs across MANY (100 accounts), same
//       concurrency, rounds interleaved: many ÷ one
//   (2) GET /api/ledger/accounts/:id of a 10,000-event stream: with its snapshot (tail 0 and tail
//       49) and with the snapshot removed (full replay), against a 1-event account
//   (3) a full rebuild of each projection (POST /_ops/projections/:name/rebuild) over 20,000 and
//       over 100,000 events, inserted directly into the ledger's D1
// Suite A serves (1) and (2); suite B, fresh, serves (3). Both are disposed on error too, on
// SIGINT/SIGTERM and by a watchdog.
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { ROOT } from '../../scripts/workers.mjs';
import { positiveKnob } from '../lib/env-knob.mjs';
import { disposeLive, guardRun, startLiveSuite } from '../lib/live-suites.mjs';
import { fixed, latencySummary, median, ratio } from '../lib/stats.mjs';
import { pollUntil } from '../../scripts/poll-until.mjs';
import { codeNote, writeSection } from '../lib/results-file.mjs';

const RESULTS = join(ROOT, 'bench', 'RESULTS.md');
const RAW_OUT = join(ROOT, 'bench', '.out', 'ledger.json'); // git-ignored

const settings = {
  rounds: positiveKnob('BENCH_ROUNDS', 3, { integer: true }),
  appendS: positiveKnob('BENCH_DURATION_S', 5, { integer: true }),
  concurrency: positiveKnob('BENCH_LEDGER_CONCURRENCY', 8, { integer: true }),
  manyAccounts: 100,
  streamEvents: 10_000,
  snapshotEvery: 50,
  reads: positiveKnob('BENCH_LEDGER_READS', 30, { integer: true }),
  rebuildSteps: [20_000, 100_000],
  insertChunk: 10_000,
  // The projection runner's page (projection-runner.ts DEFAULT_PAGE_SIZE) and D1's limit on a
  // Worker invocation's D1 calls (Workers Paid; a batch is one call).
  pageSize: 200,
  d1CallLimit: 1000,
  // LEDGER_REBUILD_PAGES_PER_SLICE as deployed (workers/ledger/wrangler.toml).
  pagesPerSlice: 50,
};
if (settings.concurrency > 16) throw new Error('BENCH_LEDGER_CONCURRENCY is capped at 16: the ledger route\'s bulkhead admits 16 at once');

const budgetMs = (120 + settings.rounds * (2 * settings.appendS + 60) + 300) * 1000;
const disarm = guardRun('ledger', budgetMs);


/** An account id the ledger's routes accept (acc_<uuid-shaped>), numbered. */
const benchAccount = (n) => `acc_00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;
/** The user the bench signs in as: it holds the accounts it inserts (account.ts `mayUse`). */
const BENCH_USER = 'bench-ledger-user';
const OPENED = JSON.stringify({ owner: 'bench-owner', currency: 'USD', initialDepositCents: 0, userId: BENCH_USER });

/**
 * Inserts events straight into the ledger's events table, in its format (d1-event-store.ts:
 * stream_id, version, type, JSON data, JSON metadata `{}`, recorded_at; global_position its
 * AUTOINCREMENT), one INSERT ... SELECT over a recursive counter per `insertChunk` events, so
 * 100,000 take seconds. Event n of [from, to) goes to account `firstAccount + n % accounts` at
 * version `n / accounts + 1` (version 1: AccountOpened), so streams interleave in global order as
 * live traffic would. No outbox rows: nothing is published.
 */
async function insertEvents(db, { firstAccount, accounts, from, to, startVersion = 1 }) {
  const at = Date.now();
  for (let lo = from; lo < to; lo += settings.insertChunk) {
    const hi = Math.min(to, lo + settings.insertChunk) - 1;
    await db
      .prepare(
        // Every number bound from JS arrives as REAL: cast, so n / k is integer division.
        `WITH RECURSIVE p(first, k, sv) AS (SELECT CAST(?3 AS INTEGER), CAST(?4 AS INTEGER), CAST(?5 AS INTEGER)),
         seq(n) AS (SELECT CAST(?1 AS INTEGER) UNION ALL SELECT n + 1 FROM seq WHERE n < CAST(?2 AS INTEGER))
         INSERT INTO events (stream_id, version, type, data, metadata, recorded_at)
         SELECT 'acc_00000000-0000-4000-8000-' || printf('%012d', first + n % k), n / k + sv,
                CASE WHEN n / k + sv = 1 THEN 'AccountOpened' ELSE 'MoneyDeposited' END,
                CASE WHEN n / k + sv = 1 THEN ?6 ELSE '{"amountCents":' || (100 + n % 7) || '}' END,
                '{}', CAST(?7 AS INTEGER)
         FROM seq, p ORDER BY n`,
      )
      .bind(lo, hi, firstAccount, accounts, startVersion, OPENED, at)
      .run();
  }
}

const timed = async (fn) => {
  const t0 = performance.now();
  const value = await fn();
  return { ms: performance.now() - t0, value };
};

async function call(suite, method, path, { headers = {}, body, timeoutMs = 10_000 } = {}) {
  const response = await fetch(suite.url(path), {
    method,
    headers: { ...headers, ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
    signal: AbortSignal.timeout(timeoutMs),
  });
  const text = await response.text();
  let json;
  try {
    json = JSON.parse(text);
  } catch {
    json = text;
  }
  return { status: response.status, json };
}

async function start(label, ledgerVars) {
  console.log(`starting suite ${label}`);
  const suite = await startLiveSuite({
    workerVars: {
      ledger: ledgerVars,
      // The ledger route's per-user rate limit (30 per 10 s) would refuse the load: off, as the
      // traffic benchmark measures it. Everything else is the route as deployed.
      gateway: { ROUTE_POLICIES: JSON.stringify({ ledger: { rateLimit: false } }) },
    },
    qstash: { retryDelayScale: 0.01 },
  });
  return suite;
}

/** (1) `concurrency` clients POST deposits for `durationS`, each to `pick()`'s account. */
async function appendLoad(suite, auth, pick) {
  const latencies = [];
  const statuses = {};
  const deadline = performance.now() + settings.appendS * 1000;
  const t0 = performance.now();
  let last = t0;
  await Promise.all(
    Array.from({ length: settings.concurrency }, async () => {
      while (performance.now() < deadline) {
        const s = performance.now();
        const { status } = await call(suite, 'POST', `/api/ledger/accounts/${pick()}/deposits`, { headers: auth, body: { amountCents: 100 } });
        const e = performance.now();
        latencies.push(e - s);
        statuses[status] = (statuses[status] ?? 0) + 1;
        last = Math.max(last, e);
      }
    }),
  );
  const ok = statuses[200] ?? 0;
  return { ok, statuses, seconds: (last - t0) / 1000, perS: ok / ((last - t0) / 1000), latency: latencySummary(latencies) };
}

async function reads(suite, auth, id, n) {
  const latencies = [];
  let view;
  for (let i = 0; i < n; i++) {
    const s = performance.now();
    const { status, json } = await call(suite, 'GET', `/api/ledger/accounts/${id}`, { headers: auth });
    latencies.push(performance.now() - s);
    if (status !== 200) throw new Error(`GET ${id}: ${status} ${JSON.stringify(json)}`);
    view = json;
  }
  return { latency: latencySummary(latencies), view };
}

async function suiteA() {
  const suite = await start('A (appends, loads)', { LEDGER_SNAPSHOT_EVERY: String(settings.snapshotEvery) });
  const db = suite.db('ledger');
  const auth = { authorization: await suite.bearer(BENCH_USER) };
  const open = async () => {
    const { status, json } = await call(suite, 'POST', '/api/ledger/accounts', { headers: auth, body: { owner: 'bench-ledger-user', currency: 'USD' } });
    if (status !== 201) throw new Error(`open account: ${status} ${JSON.stringify(json)}`);
    return json.accountId;
  };
  // (1)
  const one = await open();
  const many = [];
  for (let i = 0; i < settings.manyAccounts; i++) many.push(await open());
  let next = 0;
  // Warm-up, not measured.
  const warm = settings.appendS;
  settings.appendS = 1;
  await appendLoad(suite, auth, () => many[next++ % many.length]);
  settings.appendS = warm;
  const appendRounds = [];
  for (let round = 1; round <= settings.rounds; round++) {
    const order = round % 2 ? ['one', 'many'] : ['many', 'one'];
    const r = { round, order };
    for (const key of order) {
      r[key] = await appendLoad(suite, auth, key === 'one' ? () => one : () => many[next++ % many.length]);
      console.log(`  (1) round ${round} ${key}: ${r[key].ok} appends, ${fixed(r[key].perS, 1)}/s, p50 ${fixed(r[key].latency.p50, 1)} ms p99 ${fixed(r[key].latency.p99, 1)} ms ${JSON.stringify(r[key].statuses)}`);
    }
    appendRounds.push(r);
  }
  const oneView = (await call(suite, 'GET', `/api/ledger/accounts/${one}`, { headers: auth })).json;
  const oneEvents = appendRounds.reduce((sum, r) => sum + r.one.ok, 0);

  // (2) 10,000-event streams. S0: 9,999 inserted + one deposit through the API (the ledger itself
  // snapshots at 10,000). S49: the same, then 49 more inserted (tail of 49 after the snapshot, the
  // most a LEDGER_SNAPSHOT_EVERY=50 account replays). Small: one event.
  const n = settings.streamEvents;
  const [s0, s49, small] = [900_001, 900_002, 900_003];
  const insert = await timed(async () => {
    await insertEvents(db, { firstAccount: s0, accounts: 1, from: 0, to: n - 1 });
    await insertEvents(db, { firstAccount: s49, accounts: 1, from: 0, to: n - 1 });
    await insertEvents(db, { firstAccount: small, accounts: 1, from: 0, to: 1 });
  });
  for (const id of [s0, s49]) {
    const { status, json } = await call(suite, 'POST', `/api/ledger/accounts/${benchAccount(id)}/deposits`, { headers: auth, body: { amountCents: 100 }, timeoutMs: 30_000 });
    if (status !== 200 || json.version !== n) throw new Error(`deposit to the ${n}-event stream: ${status} ${JSON.stringify(json)}`);
  }
  await insertEvents(db, { firstAccount: s49, accounts: 1, from: 0, to: 49, startVersion: n + 1 });
  const snapshotRows = async (id) =>
    (await db.prepare('SELECT stream_id, version, schema_version, state, taken_at FROM snapshots WHERE stream_id = ?').bind(benchAccount(id)).all()).results;
  const saved = [...(await snapshotRows(s0)), ...(await snapshotRows(s49))];
  if (saved.length !== 2 || saved.some((row) => row.version !== n)) throw new Error(`expected one snapshot at ${n} per stream, found ${JSON.stringify(saved.map((r) => r.version))}`);
  const loadRounds = [];
  const views = new Map();
  const note = (key, result) => {
    const seen = views.get(key);
    if (seen && JSON.stringify(seen) !== JSON.stringify(result.view)) throw new Error(`${key}: answers differ`);
    views.set(key, result.view);
  };
  for (let round = 1; round <= settings.rounds; round++) {
    const r = { round };
    r.small = await reads(suite, auth, benchAccount(small), settings.reads);
    r.snap0 = await reads(suite, auth, benchAccount(s0), settings.reads);
    r.snap49 = await reads(suite, auth, benchAccount(s49), settings.reads);
    await db.prepare('DELETE FROM snapshots WHERE stream_id IN (?, ?)').bind(benchAccount(s0), benchAccount(s49)).run();
    r.none0 = await reads(suite, auth, benchAccount(s0), settings.reads);
    r.none49 = await reads(suite, auth, benchAccount(s49), settings.reads);
    await db.batch(saved.map((row) => db.prepare('INSERT INTO snapshots (stream_id, version, schema_version, state, taken_at) VALUES (?, ?, ?, ?, ?)').bind(row.stream_id, row.version, row.schema_version, row.state, row.taken_at)));
    for (const [key, id] of [['snap0', 's0'], ['none0', 's0'], ['snap49', 's49'], ['none49', 's49']]) note(id, r[key]);
    console.log(`  (2) round ${round}: GET p50 ms: 1 event ${fixed(r.small.latency.p50, 2)}, ${n} with snapshot ${fixed(r.snap0.latency.p50, 2)} (tail 49: ${fixed(r.snap49.latency.p50, 2)}), without ${fixed(r.none0.latency.p50, 2)} (${n + 49}: ${fixed(r.none49.latency.p50, 2)})`);
    loadRounds.push(r);
  }
  return { appendRounds, oneView, oneEvents, insertMs: insert.ms, loadRounds, views: Object.fromEntries(views) };
}

async function suiteB() {
  const suite = await start('B (rebuilds)', {});
  const db = suite.db('ledger');
  const steps = [];
  let inserted = 0;
  let accounts = 0;
  for (const total of settings.rebuildSteps) {
    // 100 events per account, interleaved.
    const adding = total - inserted;
    const insert = await timed(() => insertEvents(db, { firstAccount: accounts, accounts: adding / 100, from: 0, to: adding }));
    inserted = total;
    accounts += adding / 100;
    const step = { events: total, accounts, insertMs: insert.ms, rebuilds: {} };
    for (const name of ['balances', 'transactions']) {
      const { ms, value } = await timed(() => rebuildToEnd(suite, name).catch((error) => ({ started: 'error', status: { status: 'error', error: String(error) } })));
      step.rebuilds[name] = { ms, started: value.started, body: value.status };
      console.log(`  (3) ${total} events: rebuild ${name}: ${value.started} then ${value.status.status} in ${fixed(ms / 1000, 2)} s ${JSON.stringify(value.status)}`);
    }
    steps.push(step);
  }
  return { steps };
}

/**
 * POST /_ops/projections/:name/rebuild, then, while it answers 202 (the rebuild goes on from its
 * Durable Object's alarm, a slice of pages per invocation), GET /_ops/projections/:name every
 * 100 ms until it is no longer running, within 300 s. Answers the POST's status and the end state.
 */
async function rebuildToEnd(suite, name) {
  const started = await call(suite, 'POST', `/_ops/projections/${name}/rebuild`, { headers: suite.operator, timeoutMs: 120_000 });
  if (started.status !== 202) return { started: started.status, status: started.json };
  const { json } = await pollUntil(
    `rebuild of ${name} finished`,
    () => call(suite, 'GET', `/_ops/projections/${name}`, { headers: suite.operator }),
    (answer) => answer.json.rebuild?.status !== 'running',
    { timeoutMs: 300_000, intervalMs: 100 },
  );
  return { started: started.status, status: json.rebuild };
}

/** D1 calls one full slice makes (projection-runner.ts): read checkpoint, a read + a batch per page, the reset's or the swap's batch. */
const sliceCalls = (pages) => 1 + 2 * pages + 1;

function section({ date, code, loadAtStart, tookS, a, b }) {
  const rounds = a.appendRounds;
  const perRound = rounds.map((r) => r.many.perS / r.one.perS);
  const med = (f) => median(rounds.map(f));
  const lr = a.loadRounds;
  const lmed = (key) => median(lr.map((r) => r[key].latency.p50));
  const lp99 = (key) => median(lr.map((r) => r[key].latency.p99));
  const n = settings.streamEvents;
  const lines = [
    '## Ledger',
    '',
    `- Date: ${date}; code: ${code}`,
    `- Machine: ${os.cpus()[0]?.model?.split(' ').slice(0, 2).join(' ') ?? 'unknown'}, ${os.cpus().length} cores, Node ${process.version}; 1-min load average ${loadAtStart.toFixed(2)} before the run. Took ${tookS.toFixed(0)} s.`,
    '- Method: `npm run bench:ledger` (bench/ledger/run.mjs). The whole suite in one Miniflare with the',
    '  local QStash (scripts/local-suite.mjs, as the order benchmark starts it), every call through the',
    '  gateway on 127.0.0.1 (Node `fetch`, a connection per request: scripts/fresh-connections.mjs): `/api/ledger` with an access token signed for',
    '  one user, `/_ops` as the operator. The ledger route as deployed (auth, 5 s deadline, read retries,',
    '  breaker, bulkhead of 16) except its per-user rate limit (30 per 10 s), off (`ROUTE_POLICIES`',
    '  `{"ledger":{"rateLimit":false}}`): it would refuse the load, and bench/traffic measures it.',
    `  Two fresh suites: A for (1) and (2) with LEDGER_SNAPSHOT_EVERY=${settings.snapshotEvery} (the deployed value, pinned by`,
    '  `workerVars`), B for (3). Events the bench needs in bulk are inserted straight into the ledger\'s',
    '  D1 (`suite.db(\'ledger\')`) in the event table\'s format (d1-event-store.ts), one',
    `  \`INSERT ... SELECT\` over a recursive counter per ${settings.insertChunk.toLocaleString('en')} events, with no outbox rows.`,
    `  - (1) **appends/s**: ${settings.concurrency} clients each POST \`/api/ledger/accounts/:id/deposits\` (no If-Match, so a`,
    '    lost race is retried inside the ledger: reload, decide, append again), the next as soon as the',
    `    last is answered, for ${settings.appendS} s; appends/s = 200s ÷ (last answer − start). ONE: every deposit to one`,
    `    account (every append races the others for the stream's next version); MANY: deposits round-robin`,
    `    over ${settings.manyAccounts} accounts (opened first). Each deposit is the ledger's whole command as deployed: load`,
    '    (latest snapshot + tail), decide, one D1 batch (event, outbox row, a snapshot every 50), then',
    '    the outbox kick and the projections\' catch-up (at most 10 pages each) in waitUntil. A 1 s warm-up (MANY), then',
    `    ${settings.rounds} rounds alternating which goes first.`,
    `  - (2) **load time**: p50 of ${settings.reads} sequential \`GET /api/ledger/accounts/:id\` per case per round, ${settings.rounds} rounds. The`,
    `    ${n.toLocaleString('en')}-event stream is ${(n - 1).toLocaleString('en')} inserted events plus one deposit through the API, so the ledger`,
    `    writes its own snapshot at ${n.toLocaleString('en')}; "tail 49" has 49 more events inserted after it (the most a`,
    `    snapshot-every-50 account replays). "No snapshot": the snapshot rows deleted (a load then replays`,
    '    the whole stream, as with LEDGER_SNAPSHOT_EVERY=0), and put back for the next round. Every case',
    '    of a stream answered the same body. The 1-event account is the floor: what a read costs',
    '    through the gateway before any replay.',
    `  - (3) **rebuild**: ${settings.rebuildSteps[0].toLocaleString('en')} events inserted (100 per account), each projection rebuilt with`,
    '    `POST /_ops/projections/:name/rebuild` (shadow tables filled from event 0 a page of',
    `    ${settings.pageSize} at a time, then swapped in), then ${(settings.rebuildSteps[1] - settings.rebuildSteps[0]).toLocaleString('en')} more events inserted and both rebuilt again over all`,
    `    ${settings.rebuildSteps[1].toLocaleString('en')}. The ledger's ProjectionRebuild object runs ${settings.pagesPerSlice} pages per invocation (LEDGER_REBUILD_PAGES_PER_SLICE as`,
    '    deployed) and goes on from its alarm; the POST answers 200 when its first slice finished the',
    '    rebuild, else 202, and the bench then polls `GET /_ops/projections/:name` every 100 ms. The time',
    '    is from the POST to the poll that saw it done (so up to 100 ms late).',
    '',
    '### (1) Appends per second: one stream vs many',
    '',
    '| round | ONE appends/s | ONE p50 / p99 ms | ONE statuses | MANY appends/s | MANY p50 / p99 ms | MANY statuses | MANY ÷ ONE |',
    '| --- | --- | --- | --- | --- | --- | --- | --- |',
    ...rounds.map(
      (r, i) =>
        `| ${r.round} (${r.order.join(' then ')}) | ${fixed(r.one.perS, 1)} | ${fixed(r.one.latency.p50, 1)} / ${fixed(r.one.latency.p99, 1)} | ${JSON.stringify(r.one.statuses)} | ${fixed(r.many.perS, 1)} | ${fixed(r.many.latency.p50, 1)} / ${fixed(r.many.latency.p99, 1)} | ${JSON.stringify(r.many.statuses)} | ${fixed(perRound[i], 2)} |`,
    ),
    '',
    `Median of rounds: ONE **${fixed(med((r) => r.one.perS), 1)}** appends/s, MANY **${fixed(med((r) => r.many.perS), 1)}** appends/s; MANY ÷ ONE **${fixed(median(perRound), 2)}** (per round: ${perRound.map((x) => fixed(x, 2)).join(', ')}).`,
    `The one account ended at version ${a.oneView.version}: its opening + ${a.oneEvents} deposits answered 200 = ${1 + a.oneEvents}${a.oneView.version === 1 + a.oneEvents ? ', so every 200 was exactly one event, none lost or doubled by the retries' : ' (they differ!)'}.`,
    '',
    `### (2) Load time of a ${n.toLocaleString('en')}-event stream`,
    '',
    '| case | events replayed per load | GET p50 ms (per round) | median p50 ms | median p99 ms | ÷ with snapshot |',
    '| --- | --- | --- | --- | --- | --- |',
    ...[
      ['1-event account (floor)', 'small', '1'],
      [`${n.toLocaleString('en')} events, snapshot at ${n.toLocaleString('en')}`, 'snap0', '0 (the snapshot)'],
      [`${(n + 49).toLocaleString('en')} events, snapshot at ${n.toLocaleString('en')}`, 'snap49', '49 (+ the snapshot)'],
      [`${n.toLocaleString('en')} events, no snapshot`, 'none0', n.toLocaleString('en')],
      [`${(n + 49).toLocaleString('en')} events, no snapshot`, 'none49', (n + 49).toLocaleString('en')],
    ].map(
      ([label, key, replayed]) =>
        `| ${label} | ${replayed} | ${lr.map((r) => fixed(r[key].latency.p50, 2)).join(', ')} | ${fixed(lmed(key), 2)} | ${fixed(lp99(key), 2)} | ${ratio(lmed(key), lmed(key.endsWith('49') ? 'snap49' : 'snap0'))} |`,
    ),
    '',
    `Without ÷ with snapshot, p50: **${ratio(lmed('none0'), lmed('snap0'))}×** (${n.toLocaleString('en')} events) and **${ratio(lmed('none49'), lmed('snap49'))}×** (${(n + 49).toLocaleString('en')}, tail 49). Above the 1-event floor: ${fixed(lmed('none0') - lmed('small'), 1)} ms of replay without the snapshot, ${fixed(lmed('snap0') - lmed('small'), 1)} ms with it and ${fixed(lmed('snap49') - lmed('small'), 1)} ms with a 49-event tail (within the floor's noise). Inserting the streams' ${(2 * (n - 1) + 1).toLocaleString('en')} events took ${fixed(a.insertMs, 0)} ms.`,
    '',
    '### (3) Full projection rebuild',
    '',
    '| events | accounts | projection | POST answer | end | invocations (slices) | rebuild s | events/s | end state |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- |',
    ...b.steps.flatMap((step) =>
      Object.entries(step.rebuilds).map(
        ([name, r]) =>
          `| ${step.events.toLocaleString('en')} | ${step.accounts.toLocaleString('en')} | ${name} | ${r.started} | ${r.body.status} | ${r.body.slices ?? 'n/a'} | ${fixed(r.ms / 1000, 2)} | ${r.body.status === 'done' ? fixed(step.events / (r.ms / 1000), 0) : 'n/a'} | ${r.body.status === 'done' ? `position ${r.body.position}, rows ${r.body.rows}` : `\`${JSON.stringify(r.body).slice(0, 120)}\``} |`,
      ),
    ),
    '',
    `**Within Cloudflare's limits.** Every page is two D1 calls (a read, a batch), and D1 allows ${settings.d1CallLimit.toLocaleString('en')} per`,
    `Worker invocation (Workers Paid; 50 on Free). A slice of ${settings.pagesPerSlice} pages makes about ${sliceCalls(settings.pagesPerSlice)} calls, and after the`,
    `swap one more alarm (an invocation of its own) catches the live copy up by at most a slice (rebuild-object.ts), so each invocation stays inside the limit however many`,
    `events there are: ${settings.rebuildSteps[1].toLocaleString('en')} events (${Math.ceil(settings.rebuildSteps[1] / settings.pageSize).toLocaleString('en')} pages) take ${Math.ceil(settings.rebuildSteps[1] / settings.pageSize / settings.pagesPerSlice)} full slices, and the table counts one more: the`,
    'slice that reads past the last page and swaps. Miniflare enforces neither that limit nor the CPU limit; the slice size is',
    'what keeps the deployed rebuild inside them (on Free, set LEDGER_REBUILD_PAGES_PER_SLICE to 20 or fewer).',
    '',
    'How to read them: (1) MANY ÷ ONE is the cost of optimistic concurrency on one hot stream: with',
    `${settings.concurrency} writers on one account each append can lose the race for the next version and is reloaded and`,
    'retried inside the ledger, so ONE is lower; on many accounts appends rarely collide. Both share the',
    'single SQLite writer of the D1, so MANY is not N times ONE. (2) the snapshot turns a load into one',
    'indexed read plus the tail, so its time stays near the floor however long the stream; without it',
    'a load reads and folds every event. (3) is seconds per full replay; compare sizes within the run.',
    'Absolute numbers depend on the machine (workerd and the load generator share its cores); compare',
    'ratios from one run.',
  ];
  return lines.join('\n') + '\n';
}


const code = codeNote();
const loadAtStart = os.loadavg()[0];
const started = performance.now();
let a;
let b;
try {
  a = await suiteA();
  await disposeLive();
  b = await suiteB();
} finally {
  await disposeLive();
  disarm();
}
const tookS = (performance.now() - started) / 1000;
const date = new Date().toISOString();
mkdirSync(join(ROOT, 'bench', '.out'), { recursive: true });
writeFileSync(RAW_OUT, JSON.stringify({ date, code, loadAtStart, settings, tookS, a, b }, null, 2));
const text = section({ date, code, loadAtStart, tookS, a, b });
writeSection(RESULTS, text);
console.log(`\n${text}\nwrote ${RESULTS} and ${RAW_OUT}`);
