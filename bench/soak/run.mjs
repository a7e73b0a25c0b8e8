#!/usr/bin/env node
// `npm run bench:soak`: the whole suite (scripts/local-suite.mjs: every worker in one workerd,
// the local QStash beside it) under steady load for a bounded time, retention horizons and cron
// ticks shortened so that pruning applies within the run, sampling over time the row count of
// every D1 table, the Durable Objects with storage per class and workerd's memory, and giving a
// verdict per series: flat once retention applies, or growing (verdict.mjs). Recorded in
// bench/RESULTS.md (`## Soak`) by a run of the default length or longer; shorter runs print and
// write bench/.out/soak.json only. Never asserted: a growing bounded series is reported as a finding.
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { cronSchedules } from '../../scripts/dev-crons.mjs';
import { ROOT } from '../../scripts/workers.mjs';
import { positiveKnob } from '../lib/env-knob.mjs';
import { disposeLive, disposeSuite, guardRun, startLiveSuite } from '../lib/live-suites.mjs';
import { codeNote, writeSection } from '../lib/results-file.mjs';
import { PRODUCTS, SAGA_VARS } from '../orders/orders.mjs';
import { ledgerJob, openLedgerAccounts, orderJob, pacedLoad } from './load.mjs';
import { soakSection, seriesOf } from './report.mjs';
import { miniflareFolder, startStorageReader, workerdRssBytes } from './samples.mjs';

const RESULTS = join(ROOT, 'bench', 'RESULTS.md');
const RAW_OUT = join(ROOT, 'bench', '.out', 'soak.json'); // git-ignored
const DEFAULT_MINUTES = 15;

const settings = {
  minutes: positiveKnob('SOAK_MINUTES', DEFAULT_MINUTES),
  sampleS: positiveKnob('SOAK_SAMPLE_S', 30),
  // The workers' zod configs refuse a horizon under 60 s.
  retentionS: Math.max(60, positiveKnob('SOAK_RETENTION_S', 120)),
  cronS: positiveKnob('SOAK_CRON_S', 10),
  ordersPerS: positiveKnob('SOAK_ORDERS_PER_S', 2.5),
  ledgerPerS: positiveKnob('SOAK_LEDGER_PER_S', 2.5),
  maxInFlight: 24,
  rotateS: 60, // callers of orders change every minute: rate-limiter objects for new keys, old ones quiet
  usersPerRotation: 20,
  ledgerAccounts: 20,
  declinedShare: 0.05,
  repeatShare: 0.03,
  withdrawShare: 0.3,
  duplicateRate: 0.1,
  // Chaos half of each cycle, six cycles a run: the middle and last thirds see the same mix.
  chaosCycles: 6,
  chaos: { payments: { failureRate: 0.3, status: 503, latencyMs: 20 }, catalog: { failureRate: 0.05, status: 503, latencyMs: 100 } },
  seed: 15,
};
const durationMs = settings.minutes * 60_000;
const horizonMs = settings.retentionS * 1000;

// Every horizon README's retention table names, shortened to the run's (the saga's, the inboxes',
// the outboxes', the reservations', the charge keys', the notifications', the ledger's keys).
// RateLimiter objects keep two windows of their route (10 s on the routes loaded here): already
// short. Unused card tokens (30 days, a constant) do not occur: every token made here is charged.
const RETENTION_VARS = {
  INBOX_RETENTION_MS: String(horizonMs),
  OUTBOX_SENT_RETENTION_MS: String(horizonMs),
  RESERVATION_RETENTION_MS: String(horizonMs),
  CHARGE_KEY_RETENTION_MS: String(horizonMs),
  NOTIFICATION_RETENTION_MS: String(horizonMs),
  LEDGER_IDEMPOTENCY_RETENTION_MS: String(horizonMs),
  SAGA_RETENTION_MS: String(horizonMs),
};

const disarm = guardRun('soak', durationMs + 10 * 60_000);
const runId = Date.now().toString(36);
class WorkerdGone extends Error {}
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function main() {
  const loadAverage = os.loadavg();
  const tooShort = horizonMs + 2 * settings.cronS * 1000 > durationMs / 3;
  console.log(
    `soak: ${settings.minutes} min, sample every ${settings.sampleS} s, retention ${settings.retentionS} s, crons every ${settings.cronS} s, ` +
      `${settings.ordersPerS} orders/s and ${settings.ledgerPerS} ledger commands/s`,
  );
  if (tooShort) console.log('soak: the retention horizon is not well inside the first third of the run: the verdicts compare a climb, not a plateau');

  // Miniflare keeps every Durable Object's SQLite file under os.tmpdir(): a folder of the run's own.
  const tmp = mkdtempSync(join(os.tmpdir(), 'stratus-soak-'));
  const previousTmp = process.env.TMPDIR;
  process.env.TMPDIR = tmp;
  let suite;
  try {
    suite = await startLiveSuite({
      vars: { ...SAGA_VARS, ...RETENTION_VARS },
      workerVars: { orders: { SAGA_CRASH_PERCENT: '0' } },
      qstash: { retryDelayScale: 0.01, duplicateRate: settings.duplicateRate, seed: settings.seed, dedupRetentionMs: horizonMs, dlqRetentionMs: horizonMs },
      buildPrefix: 'soak',
      keepLogs: true,
    });
  } finally {
    if (previousTmp === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = previousTmp;
  }
  console.log('soak: suite started');
  const storage = startStorageReader(miniflareFolder(tmp));
  const timers = [];
  try {
    const catalog = suite.db('catalog');
    await catalog.batch(
      PRODUCTS.map((p) =>
        catalog.prepare("INSERT INTO products (id, name, description, price_cents, currency, stock) VALUES (?, ?, '', ?, 'USD', ?)").bind(p.id, p.id, p.priceCents, p.stock),
      ),
    );
    const accounts = await openLedgerAccounts(suite, { accounts: settings.ledgerAccounts });
    console.log(`soak: catalog seeded, ${accounts.length} ledger accounts opened; load starts`);

    const ops = async (method, path, body) => {
      const response = await fetch(suite.url(path), {
        method,
        headers: { ...suite.operator, 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(30_000),
      });
      await response.arrayBuffer(); // read to its end: a body cancelled half-read closes the connection under workerd
      return response.status;
    };

    // The crons, every cronS instead of every minute: each service's scheduled handler through
    // POST /_ops/crons/:service (as `npm run dev` fires them), with the service's own cron string.
    const crons = { runs: 0, failed: {} };
    const fireCrons = async () => {
      await Promise.all(
        cronSchedules().map(async ({ service, cron }) => {
          const status = await ops('POST', `/_ops/crons/${service}`, { cron }).catch((error) => error.name);
          crons.runs++;
          if (status !== 200) crons.failed[`${service} ${status}`] = (crons.failed[`${service} ${status}`] ?? 0) + 1;
        }),
      );
    };
    let cronsRunning = false;
    timers.push(
      setInterval(() => {
        if (cronsRunning) return; // a slow tick is not stacked on
        cronsRunning = true;
        void fireCrons().finally(() => (cronsRunning = false));
      }, settings.cronS * 1000),
    );

    const startedAt = Date.now();
    const orders = pacedLoad({
      ratePerS: settings.ordersPerS,
      maxInFlight: settings.maxInFlight,
      job: orderJob(suite, { runId, seed: settings.seed, rotateMs: settings.rotateS * 1000, usersPerRotation: settings.usersPerRotation, declinedShare: settings.declinedShare, repeatShare: settings.repeatShare, startedAt }),
    });
    const ledger = pacedLoad({
      ratePerS: settings.ledgerPerS,
      maxInFlight: settings.maxInFlight,
      job: ledgerJob(suite, { accounts, runId, seed: settings.seed + 1, withdrawShare: settings.withdrawShare, repeatShare: settings.repeatShare }),
    });

    // Chaos on for the first half of each cycle.
    const cycleMs = durationMs / settings.chaosCycles;
    let chaosOn = false;
    const chaosChanges = { on: 0, failed: 0 };
    const setChaos = async (on) => {
      chaosOn = on;
      for (const [service, config] of Object.entries(settings.chaos)) {
        const status = await ops(on ? 'PUT' : 'DELETE', `/_ops/chaos/${service}`, on ? config : undefined).catch((error) => error.name);
        if (status !== 200 && status !== 204) chaosChanges.failed++;
      }
      if (on) chaosChanges.on++;
    };
    timers.push(
      setInterval(() => {
        const inFirstHalf = (Date.now() - startedAt) % cycleMs < cycleMs / 2;
        if (inFirstHalf !== chaosOn) void setChaos(inFirstHalf);
      }, 1000),
    );
    await setChaos(true);

    const samples = [];
    const takeSample = async () => {
      const t = Date.now() - startedAt;
      suite.logs.text = suite.logs.text.slice(-20_000); // a tail for an error, not a run's worth
      const { tables, objects: objectFiles, unfinishedOrders: unfinished } = await storage.scan();
      const rss = workerdRssBytes();
      if (rss === null && existsSync('/proc/self/status')) {
        // workerd is gone: every later sample would only count refused requests.
        const lastWords = suite.logs.text.split('\n').filter((line) => line.startsWith('***') || /error: |signal/i.test(line));
        console.error(`soak: workerd exited; its last output:\n${suite.logs.text.split('\n').slice(-60).join('\n')}`);
        throw new WorkerdGone(lastWords.at(-1) ?? 'no last words');
      }
      const qstash = suite.qstash.stats();
      const sample = {
        t,
        chaos: chaosOn,
        orders: orders.stats(),
        ledger: ledger.stats(),
        crons: { runs: crons.runs, failed: { ...crons.failed } },
        tables,
        unfinishedOrders: unfinished,
        objects: objectFiles,
        workerdRssMiB: rss === null ? null : rss / 2 ** 20,
        nodeRssMiB: process.memoryUsage().rss / 2 ** 20,
        qstash: { delivered: qstash.delivered, duplicated: qstash.duplicated, retried: qstash.retried, deadLettered: qstash.deadLettered, dlq: qstash.dlq, pending: qstash.pending, inFlight: qstash.inFlight },
      };
      samples.push(sample);
      const inbox = ['catalog', 'orders', 'notifications'].map((s) => tables[`${s}.inbox`]).join('/');
      const sagas = Object.entries(objectFiles).find(([k]) => k.endsWith('-OrderSaga'))?.[1];
      const limiters = Object.entries(objectFiles).find(([k]) => k.endsWith('-RateLimiter'))?.[1];
      console.log(
        `t=${(t / 60_000).toFixed(1)} min${chaosOn ? ' chaos' : ''}: orders ${sample.orders.launched} (behind ${sample.orders.behind}), ledger ${sample.ledger.launched}, ` +
          `unfinished ${unfinished}, inboxes ${inbox}, sagas with storage ${sagas?.withStorage ?? 0}/${sagas?.files ?? 0}, ` +
          `limiters ${limiters?.withStorage ?? 0}/${limiters?.files ?? 0}, workerd ${sample.workerdRssMiB?.toFixed(0)} MiB, crons ${crons.runs}`,
      );
    };
    // A sample whose reads fail is tried again, then skipped and counted: the run goes on.
    let skippedSamples = 0;
    let workerdExit = null; // { t, line } when workerd exited mid-run: the run ends there and reports it
    const trySample = async () => {
      for (let attempt = 1; ; attempt++) {
        try {
          return await takeSample();
        } catch (error) {
          if (error instanceof WorkerdGone) {
            workerdExit = { t: Date.now() - startedAt, line: error.message };
            return;
          }
          if (attempt === 3) {
            skippedSamples++;
            console.log(`soak: sample skipped: ${error?.cause?.message ?? error?.message ?? error}`);
            return;
          }
          await sleep(1000);
        }
      }
    };
    await trySample();
    let slot = 1;
    while (Date.now() - startedAt < durationMs && !workerdExit) {
      await sleep(Math.max(0, startedAt + slot++ * settings.sampleS * 1000 - Date.now()));
      if (Date.now() - startedAt > durationMs + 1000) break;
      await trySample();
    }
    await Promise.all([orders.stop(), ledger.stop()]);
    for (const timer of timers.splice(0)) clearInterval(timer);
    if (!workerdExit) await setChaos(false);

    const run = {
      date: new Date().toISOString().slice(0, 10),
      code: codeNote(),
      settings,
      durationMs,
      loadAverage,
      cores: os.cpus().length,
      tooShort,
      chaosChanges,
      skippedSamples,
      workerdExit,
      crons,
      orders: orders.stats(),
      ledger: ledger.stats(),
      samples,
    };
    mkdirSync(join(ROOT, 'bench', '.out'), { recursive: true });
    writeFileSync(RAW_OUT, `${JSON.stringify(run, null, 1)}\n`);
    const section = soakSection(run);
    console.log(`\n${section}`);
    if (settings.minutes >= DEFAULT_MINUTES) {
      writeSection(RESULTS, section);
      console.log(`written to ${RESULTS}`);
    } else console.log(`(a ${settings.minutes}-minute run: RESULTS.md untouched; raw samples in ${RAW_OUT})`);
    const findings = seriesOf(run).filter((s) => s.result.verdict === 'grows');
    if (findings.length) console.log(`soak: ${findings.length} bounded series grew: ${findings.map((s) => s.name).join(', ')}`);
  } catch (error) {
    // workerd's own last words, when it is the one that failed.
    console.error(suite.logs.text.split('\n').slice(-40).join('\n'));
    throw error;
  } finally {
    for (const timer of timers) clearInterval(timer);
    storage.close();
    await disposeSuite(suite);
    rmSync(tmp, { recursive: true, force: true });
  }
}

main()
  .catch(async (error) => {
    console.error(error);
    await disposeLive();
    process.exitCode = 1;
  })
  .finally(disarm);
