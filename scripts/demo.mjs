#!/usr/bin/env node
// `npm run demo`: a guided walk through the patterns, against the running suite (`npm run dev`)
// or, when none answers, a suite it starts itself (and stops at the end). Each step says what it
// did, what came back and which pattern that shows; the exit code is non-zero when any step did
// not behave as described.
//
//   npm run demo                                  # http://localhost:8787, else its own suite
//   npm run demo -- --url http://127.0.0.1:8802   # another running suite (or STRATUS_URL=...)
//   npm run demo -- --start                       # always its own suite (what CI does)
//   ADMIN_TOKEN=... npm run demo                  # the operator token, if not dev-admin-token
import { parseArgs } from 'node:util';
import { startDemoSuite } from './demo/demo-suite.mjs';
import { useFreshConnections } from './fresh-connections.mjs';
import { DemoFailure, gatewayClient } from './demo/http-client.mjs';
import { printer, style } from './demo/printer.mjs';
import { breaker } from './demo/steps/breaker.mjs';
import { cachedCatalog } from './demo/steps/cached-catalog.mjs';
import { deadLetterIds, deliveredPerConsumer, fanOut } from './demo/steps/fan-out.mjs';
import { ledger } from './demo/steps/ledger.mjs';
import { login } from './demo/steps/login.mjs';
import { compensatedOrder, completedOrder } from './demo/steps/orders.mjs';
import { rateLimit } from './demo/steps/rate-limit.mjs';
import { stranglerFig } from './demo/steps/strangler-fig.mjs';

// The suite under `npm run dev` is workerd too: a connection per request (fresh-connections.mjs).
useFreshConnections();

const STEPS = [login, cachedCatalog, rateLimit, completedOrder, compensatedOrder, breaker, fanOut, ledger, stranglerFig];

const { values: options } = parseArgs({
  options: {
    url: { type: 'string', default: process.env.STRATUS_URL ?? 'http://localhost:8787' },
    start: { type: 'boolean', default: false },
    'admin-token': { type: 'string', default: process.env.ADMIN_TOKEN ?? 'dev-admin-token' },
  },
});

/** Whether a stratus gateway answers at `url` (GET /health → {"status":"ok"}) within a moment. */
async function answers(url) {
  try {
    const response = await fetch(new URL('/health', url), { signal: AbortSignal.timeout(2_000) });
    return response.ok && (await response.json()).status === 'ok';
  } catch {
    return false;
  }
}

async function target() {
  if (!options.start && (await answers(options.url))) {
    printer.line(`${style.bold('stratus demo')} against the running suite at ${options.url}`);
    return { baseUrl: options.url, adminToken: options['admin-token'], started: false, dispose: async () => {} };
  }
  printer.line(
    `${options.start ? 'Starting' : `Nothing answers at ${options.url}: starting`} the suite for this demo (every worker in workerd, and the local QStash; bundling takes a little while)…`,
  );
  const started = performance.now();
  const suite = await startDemoSuite();
  printer.line(`${style.bold('stratus demo')} against its own suite at ${suite.baseUrl} (up in ${((performance.now() - started) / 1000).toFixed(1)} s, stopped at the end)`);
  return { ...suite, started: true };
}

async function runSteps(call) {
  const state = { token: null, orders: [] };
  const context = {
    call,
    state,
    show: printer.exchange,
    note: printer.note,
  };
  // Before any order: what the event consumers had received, and the dead letters, so far.
  state.deliveriesBefore = await deliveredPerConsumer(call);
  state.deadLettersBefore = (await deadLetterIds(call)) ?? new Set();
  const failures = [];
  for (const [index, step] of STEPS.entries()) {
    printer.heading(index + 1, STEPS.length, step.title, step.pattern);
    const started = performance.now();
    try {
      const summary = await step.run(context);
      printer.passed(`${summary} ${style.dim(`(${((performance.now() - started) / 1000).toFixed(1)} s)`)}`);
    } catch (error) {
      const why = error instanceof DemoFailure ? error.message : `${error?.name ?? 'Error'}: ${error?.message ?? error}`;
      printer.failed(why);
      failures.push({ index: index + 1, title: step.title, why });
      // Everything after the login needs its token.
      if (step === login) break;
    }
  }
  return failures;
}

const suite = await target();
let failures;
try {
  failures = await runSteps(gatewayClient(suite.baseUrl, suite.adminToken));
} finally {
  await suite.dispose();
}
printer.line();
if (failures.length === 0) {
  printer.line(style.green(style.bold(`All ${STEPS.length} steps behaved as described.`)));
  printer.line(
    suite.started
      ? 'Next: `npm run dev` keeps a suite running; then README.md\'s "Try it" goes further, by hand.'
      : `Next: README.md's "Try it" goes further, by hand; operators watch ${suite.baseUrl}/_ops (token ${suite.adminToken}).`,
  );
} else {
  printer.line(style.red(style.bold(`${failures.length} of ${STEPS.length} steps did not behave as described:`)));
  for (const failure of failures) printer.line(style.red(`  [${failure.index}/${STEPS.length}] ${failure.title}: ${failure.why}`));
  process.exitCode = 1;
}
