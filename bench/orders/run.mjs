#!/usr/bin/env node
// `npm run bench:orders`: orders per second to a terminal state and the time each order takes to
// get there, the whole suite in one Miniflare with the local QStash (scripts/local-suite.mjs),
// recorded in bench/RESULTS.md (never asserted):
//   (a) no chaos
//   (b) chaos: payments fail 30 % of calls and take 20 ms more, QStash delivers 20 % twice
//   (c) (a) again with Miniflare's storage on a tmpfs (/dev/shm): what the disk costs
// Each target in each run gets a fresh suite (empty databases); BENCH_ORDER_RUNS runs (2) visit
// the targets in rotated order. BENCH_ONLY=a,b (say) runs a subset: printed and written to
// bench/.out/orders.json, RESULTS.md untouched.
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { ROOT } from '../../scripts/workers.mjs';
import { benchOrders, makeOrders } from './orders.mjs';
import { ordersSection, writeSection } from './report.mjs';
import { positiveKnob } from '../lib/env-knob.mjs';
import { disposeLive, guardRun } from '../lib/live-suites.mjs';
import { codeNote } from '../lib/results-file.mjs';

const RESULTS = join(ROOT, 'bench', 'RESULTS.md');
const RAW_OUT = join(ROOT, 'bench', '.out', 'orders.json'); // git-ignored
const MEMORY_DIR = '/dev/shm';

const settings = {
  orders: positiveKnob('BENCH_ORDERS', 300, { integer: true }),
  concurrency: positiveKnob('BENCH_ORDER_CONCURRENCY', 32, { integer: true }),
  runs: positiveKnob('BENCH_ORDER_RUNS', 2, { integer: true }),
  // The orders route allows 30 orders per 10 s per user: 3 per user stays far below it, so the
  // route's rate limit stays on, as deployed, and refuses nothing.
  ordersPerUser: 3,
  probes: 10,
  drainS: positiveKnob('BENCH_ORDER_DRAIN_S', 120),
  settleS: 120,
  seed: 20261124,
};
if (settings.orders > 2000) throw new Error('BENCH_ORDERS is capped at 2000: a run is meant to stay bounded');
settings.users = Math.ceil(settings.orders / settings.ordersPerUser);
const only = new Set((process.env.BENCH_ONLY ?? 'a,b,c').split(',').map((s) => s.trim()));
const memoryStorage = existsSync(MEMORY_DIR);
if (!memoryStorage && only.has('c')) {
  console.warn(`note: no ${MEMORY_DIR} here: (c), the run with storage in memory, is skipped`);
  only.delete('c');
}

const TARGETS = {
  a: { chaos: false },
  b: { chaos: true },
  c: { chaos: false, storageDir: MEMORY_DIR },
};

// The backstop: every wait below has its own deadline; this stops a run that still overstays.
const perSuiteS = 90 + settings.orders / 5 + settings.drainS + settings.settleS;
const budgetMs = settings.runs * only.size * perSuiteS * 1000;
const disarm = guardRun('orders', budgetMs);

const code = codeNote();
const loadAtStart = os.loadavg()[0];
if (loadAtStart > os.cpus().length / 2) console.warn(`note: 1-min load average is ${loadAtStart.toFixed(2)} before the run; results will be noisy if other work is busy`);

const planned = makeOrders({ orders: settings.orders, users: settings.users, seed: settings.seed });
const order = [...only].filter((k) => TARGETS[k]).sort();
const runs = [];
const started = performance.now();
try {
  for (let run = 1; run <= settings.runs; run++) {
    const visit = order.map((_, i) => order[(i + run - 1) % order.length]);
    const results = {};
    for (const key of visit) {
      console.log(`run ${run}: (${key}) ${TARGETS[key].chaos ? 'chaos' : 'no chaos'}${TARGETS[key].storageDir ? ', storage in memory' : ''}: ${settings.orders} orders, ${settings.concurrency} in flight`);
      results[key] = await benchOrders({
        label: `run${run}-${key}`,
        ...TARGETS[key],
        orders: planned,
        concurrency: settings.concurrency,
        drainS: settings.drainS,
        settleS: settings.settleS,
        probes: settings.probes,
        seed: settings.seed + run,
      });
      const r = results[key];
      console.log(
        `  ${r.terminal}/${r.accepted} terminal (${Object.entries(r.statuses).map(([s, n]) => `${n} ${s}`).join(', ')}): ${r.ordersPerS.toFixed(1)} orders/s, completion p50 ${r.completion.p50} ms p99 ${r.completion.p99} ms, POST p50 ${r.post.p50.toFixed(0)} ms p99 ${r.post.p99.toFixed(0)} ms`,
      );
    }
    runs.push({ run, visit, results });
  }
} finally {
  await disposeLive();
  disarm();
}

const tookS = (performance.now() - started) / 1000;
mkdirSync(join(ROOT, 'bench', '.out'), { recursive: true });
const date = new Date().toISOString();
writeFileSync(RAW_OUT, JSON.stringify({ date, code, loadAtStart, settings, tookS, runs }, null, 2));
if (only.has('a') && only.has('b') && (only.has('c') || !memoryStorage)) {
  const section = ordersSection({ date, code, loadAtStart, settings, tookS, runs, memoryDir: only.has('c') ? MEMORY_DIR : null });
  writeSection(RESULTS, section);
  console.log(`\n${section}\nwrote ${RESULTS} and ${RAW_OUT}`);
} else {
  console.log(`\npartial run (BENCH_ONLY=${[...only].join(',')}): RESULTS.md left as it was; raw results in ${RAW_OUT}`);
}
