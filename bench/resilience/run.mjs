#!/usr/bin/env node
// `npm run bench:resilience`: what the gateway's resilience costs and saves, each measured
// against a baseline in the same run, recorded as ratios in bench/RESULTS.md (never asserted):
//   (a) open-vs-hang.mjs  a call refused by an open breaker vs one waiting out a hanging upstream
//   (b) hot-path.mjs      gateway throughput with the breaker in the path vs without, closed
//   (c) micro.mjs         per-call overhead in Node: our breaker policy vs opossum vs bare
// BENCH_ONLY=a,c runs a subset and prints it without touching RESULTS.md (a partial section
// would replace the whole one).
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { ROOT } from '../../scripts/workers.mjs';
import { benchHotPath } from './hot-path.mjs';
import { benchMicro } from './micro.mjs';
import { benchOpenVsHang } from './open-vs-hang.mjs';
import { resilienceSection, writeSection } from './report.mjs';
import { positiveKnob } from '../lib/env-knob.mjs';
import { buildBundles, disposeAll } from '../lib/gateway-target.mjs';

const RESULTS = join(ROOT, 'bench', 'RESULTS.md');
const RAW_OUT = join(ROOT, 'bench', '.out', 'resilience.json'); // git-ignored, for digging into a run

// The same knobs as bench/gateway, so `BENCH_ROUNDS=5 npm run bench` steadies both.
const settings = {
  rounds: positiveKnob('BENCH_ROUNDS', 3, { integer: true }),
  durationS: positiveKnob('BENCH_DURATION_S', 5),
  warmupS: 2,
  microCalls: positiveKnob('BENCH_MICRO_CALLS', 200_000, { integer: true }),
  microRounds: Math.max(3, positiveKnob('BENCH_ROUNDS', 5, { integer: true })),
};
const only = new Set((process.env.BENCH_ONLY ?? 'a,b,c').split(',').map((s) => s.trim()));

// Nothing here may run unbounded: autocannon stops itself, every set-up request has a deadline,
// and this is the backstop. Miniflare also kills its workerd when Node exits (its exit hook).
const budgetMs = (settings.rounds * settings.durationS * 4 + 240) * 1000 + (settings.microCalls / 200_000) * 60_000;
const watchdog = setTimeout(async () => {
  console.error(`resilience benchmark still running after ${Math.round(budgetMs / 1000)} s; stopping`);
  await disposeAll();
  process.exit(1);
}, budgetMs);
watchdog.unref();

const loadAtStart = os.loadavg()[0];
if (loadAtStart > os.cpus().length / 2) {
  console.warn(`note: 1-min load average is ${loadAtStart.toFixed(2)} before the run; if other work is busy, results will be noisy`);
}

const timed = async (fn) => {
  const started = performance.now();
  const result = await fn();
  return [result, (performance.now() - started) / 1000];
};

const results = {};
const durations = {};
try {
  if (only.has('a') || only.has('b')) {
    console.log('bundling the gateway and the bench upstream with `wrangler deploy --dry-run`…');
    [, durations.bundling] = await timed(() => buildBundles('resilience'));
  }
  if (only.has('a')) {
    console.log('(a) breaker open vs hanging upstream');
    [results.a, durations.a] = await timed(() => benchOpenVsHang(settings));
    await disposeAll();
  }
  if (only.has('b')) {
    console.log('(b) gateway with vs without the breaker, closed');
    [results.b, durations.b] = await timed(() => benchHotPath(settings));
    await disposeAll();
  }
  if (only.has('c')) {
    console.log('(c) per-call overhead in Node: ours vs opossum');
    [results.c, durations.c] = await timed(() => benchMicro({ calls: settings.microCalls, rounds: settings.microRounds }));
  }
} finally {
  await disposeAll();
  clearTimeout(watchdog);
}

mkdirSync(join(ROOT, 'bench', '.out'), { recursive: true });
const date = new Date().toISOString();
writeFileSync(RAW_OUT, JSON.stringify({ date, loadAtStart, settings, durations, ...results }, null, 2));
const section = results.a && results.b && results.c ? resilienceSection({ date, loadAtStart, settings, ...results, durations }) : null;
if (section) {
  writeSection(RESULTS, section);
  console.log(`\n${section}\nwrote ${RESULTS} and ${RAW_OUT}`);
} else {
  console.log(`\npartial run (BENCH_ONLY=${[...only].join(',')}): RESULTS.md left as it was; raw results in ${RAW_OUT}`);
  console.log(JSON.stringify({ durations, ...results }, (key, value) => (key === 'rounds' && Array.isArray(value) && value.length > 10 ? undefined : value), 2));
}
