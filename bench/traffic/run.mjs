#!/usr/bin/env node
// `npm run bench:traffic`: what the gateway's traffic policies cost and save, each measured
// against a baseline in the same run, recorded as ratios in bench/RESULTS.md (never asserted):
//   (a) rate-limit.mjs  gateway throughput with the catalog's rate limit (Durable Object, every
//                       request allowed) vs the same gateway with it off; micro.mjs: ns/decision
//   (b) cache.mjs       a catalog GET answered from the cache (HIT) vs the same GET sent to a
//                       ~20 ms upstream (cache off), and to an upstream answering at once
// BENCH_ONLY=a or b runs a subset and prints it without touching RESULTS.md.
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { ROOT } from '../../scripts/workers.mjs';
import { benchCache } from './cache.mjs';
import { benchMicro } from './micro.mjs';
import { benchRateLimit } from './rate-limit.mjs';
import { trafficSection, writeSection } from './report.mjs';
import { positiveKnob } from '../lib/env-knob.mjs';
import { buildBundles, disposeAll } from '../lib/gateway-target.mjs';

const RESULTS = join(ROOT, 'bench', 'RESULTS.md');
const RAW_OUT = join(ROOT, 'bench', '.out', 'traffic.json'); // git-ignored

const settings = {
  rounds: positiveKnob('BENCH_ROUNDS', 3, { integer: true }),
  durationS: positiveKnob('BENCH_DURATION_S', 5),
  warmupS: 2,
  microCalls: positiveKnob('BENCH_MICRO_CALLS', 200_000, { integer: true }),
  microRounds: Math.max(3, positiveKnob('BENCH_ROUNDS', 5, { integer: true })),
};
const only = new Set((process.env.BENCH_ONLY ?? 'a,b').split(',').map((s) => s.trim()));

// The backstop: autocannon stops itself and set-up requests have deadlines; Miniflare also kills
// its workerd when Node exits.
const budgetMs = (settings.rounds * settings.durationS * 5 + 240) * 1000 + (settings.microCalls / 200_000) * 60_000;
const watchdog = setTimeout(async () => {
  console.error(`traffic benchmark still running after ${Math.round(budgetMs / 1000)} s; stopping`);
  await disposeAll();
  process.exit(1);
}, budgetMs);
watchdog.unref();

const loadAtStart = os.loadavg()[0];
if (loadAtStart > os.cpus().length / 2) console.warn(`note: 1-min load average is ${loadAtStart.toFixed(2)} before the run; results will be noisy if other work is busy`);

const timed = async (fn) => {
  const started = performance.now();
  const result = await fn();
  return [result, (performance.now() - started) / 1000];
};

const results = {};
const durations = {};
try {
  console.log('bundling the gateway and the bench upstream with `wrangler deploy --dry-run`…');
  [, durations.bundling] = await timed(() => buildBundles('traffic'));
  if (only.has('a')) {
    console.log('(a) rate limit on (every request allowed) vs off');
    [results.a, durations.a] = await timed(() => benchRateLimit(settings));
    await disposeAll();
    console.log('(a) micro: ns per decision in Node');
    [results.micro, durations.micro] = await timed(() => benchMicro({ calls: settings.microCalls, rounds: settings.microRounds }));
  }
  if (only.has('b')) {
    console.log('(b) cache HIT vs upstream');
    [results.b, durations.b] = await timed(() => benchCache(settings));
    await disposeAll();
  }
} finally {
  await disposeAll();
  clearTimeout(watchdog);
}

mkdirSync(join(ROOT, 'bench', '.out'), { recursive: true });
const date = new Date().toISOString();
writeFileSync(RAW_OUT, JSON.stringify({ date, loadAtStart, settings, durations, ...results }, null, 2));
if (results.a && results.b) {
  const section = trafficSection({ date, loadAtStart, settings, durations, ...results });
  writeSection(RESULTS, section);
  console.log(`\n${section}\nwrote ${RESULTS} and ${RAW_OUT}`);
} else {
  console.log(`\npartial run (BENCH_ONLY=${[...only].join(',')}): RESULTS.md left as it was; raw results in ${RAW_OUT}`);
  console.log(JSON.stringify({ durations, ...results }, null, 2));
}
