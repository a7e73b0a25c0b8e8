#!/usr/bin/env node
// Runs the official QStash SDK's own test suite (github.com/upstash/qstash-js) against the local
// QStash, so "works with the official client" is checked by the client's authors' tests, not only
// by ours. Nothing is downloaded: you clone the SDK yourself, at the tag closest to the client this
// repository pins (@upstash/qstash 2.12.0: tag v2.11.3, whose commit is what 2.12.0 was built
// from), and install its dependencies once:
//
//   git clone https://github.com/upstash/qstash-js ../qstash-js
//   (cd ../qstash-js && git checkout v2.11.3 && bun install)
//   npm run qstash:conformance -- ../qstash-js
//
// The SDK's tests use bun:test; bun comes from this repository's node_modules. They start a local
// QStash of ours (in memory, real time, a free port) and point QSTASH_URL / QSTASH_TOKEN / the
// signing keys at it. Tests of features this server does not claim (the logs API, flow-control
// limits; see UNCLAIMED) are counted apart. Exit status 1 if a claimed test fails.
// Not part of CI: it needs the SDK checkout, and its tests wait real seconds (about 3 minutes).
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { startQStashServer } from './qstash-server.mjs';
import { ROOT } from './workers.mjs';

/**
 * The SDK's test files that talk to a QStash server. Left out: the ones that never reach one
 * (http, utils, multi-region: the client's own logic against mocks), the workflow and dev-server
 * suites (Upstash Workflow, and the SDK's downloader of Upstash's dev server binary), and the
 * LLM/email API tests (providers this server does not call).
 */
export const SERVER_TEST_FILES = [
  'src/receiver.test.ts',
  'src/client/client.test.ts',
  'src/client/messages.test.ts',
  'src/client/dlq.test.ts',
  'src/client/queue.test.ts',
  'src/client/url-groups.test.ts',
  'src/client/schedules.test.ts',
  'src/client/logs.test.ts',
  'src/client/flow-control.test.ts',
];

/**
 * Features this server does not claim, by the SDK test's "describe > name". Everything else it
 * claims: those tests must pass.
 */
export const UNCLAIMED = [
  // A schedule with flow control shows its limits; they are not enforced here.
  { feature: 'flow control limits and their API (/v2/flowControl)', test: /^Schedules > should create schedule with flow control$/ },
  { feature: 'the logs and events API (/v2/logs, /v2/events)', test: /^(logs|events \(deprecated\)) > / },
  { feature: 'redaction, which shows only in the logs API', test: /^E2E Redact > / },
  { feature: 'flow control limits and their API (/v2/flowControl)', test: /^FlowControl > |^Messages > should create message with flow control$|^DLQ > should get flow control$/ },
];

/** Pass/fail per test from bun's output lines "(pass) describe > name [12.34ms]". */
export function parseBunResults(output) {
  const results = new Map();
  for (const line of output.split('\n')) {
    const match = /^\((pass|fail)\) (.+?)(?: \[[\d.]+m?s\])?$/.exec(line.trim());
    // A file imported by another (queue.test imports client.test) runs twice: a failure counts.
    if (match) results.set(match[2], results.get(match[2]) === 'fail' ? 'fail' : match[1]);
  }
  return results;
}

/** The counts README reports: claimed tests passing of claimed tests, and the unclaimed ones by feature. */
export function summarise(results) {
  const claimed = { pass: 0, fail: [], total: 0 };
  const unclaimed = new Map(UNCLAIMED.map(({ feature }) => [feature, { pass: 0, total: 0 }]));
  for (const [name, outcome] of results) {
    const rule = UNCLAIMED.find(({ test }) => test.test(name));
    if (rule) {
      const row = unclaimed.get(rule.feature);
      row.total++;
      if (outcome === 'pass') row.pass++;
      continue;
    }
    claimed.total++;
    if (outcome === 'pass') claimed.pass++;
    else claimed.fail.push(name);
  }
  return { claimed, unclaimed };
}

async function main() {
  const sdk = process.argv[2] && resolve(process.argv[2]);
  if (!sdk || !existsSync(join(sdk, 'src', 'client', 'client.test.ts'))) {
    console.error('usage: npm run qstash:conformance -- <path to a qstash-js checkout at v2.11.3, with `bun install` run in it>');
    process.exit(2);
  }
  if (!existsSync(join(sdk, 'node_modules'))) {
    console.error(`${sdk} has no node_modules: run \`bun install\` (or npm install) there first`);
    process.exit(2);
  }
  const qstash = await startQStashServer({ port: 0 });
  console.log(`local QStash on ${qstash.url}; running ${SERVER_TEST_FILES.length} test files of ${sdk}`);
  const env = {
    ...process.env,
    QSTASH_URL: qstash.url,
    QSTASH_TOKEN: qstash.token,
    QSTASH_CURRENT_SIGNING_KEY: qstash.currentSigningKey,
    QSTASH_NEXT_SIGNING_KEY: qstash.nextSigningKey,
  };
  let output = '';
  const code = await new Promise((done) => {
    const bun = spawn(join(ROOT, 'node_modules', '.bin', 'bun'), ['test', ...SERVER_TEST_FILES], { cwd: sdk, env, stdio: ['ignore', 'pipe', 'pipe'] });
    const collect = (chunk) => {
      output += chunk;
      if (process.env.VERBOSE) process.stdout.write(chunk);
    };
    bun.stdout.on('data', collect);
    bun.stderr.on('data', collect);
    bun.on('close', done);
  });
  await qstash.close();

  const results = parseBunResults(output);
  if (results.size === 0) {
    console.error(`bun ran no tests (exit ${code}):\n${output.slice(-4_000)}`);
    process.exit(2);
  }
  const { claimed, unclaimed } = summarise(results);
  console.log(`\nclaimed features: ${claimed.pass} of ${claimed.total} tests pass`);
  for (const name of claimed.fail) console.log(`  FAIL ${name}`);
  console.log('not claimed:');
  for (const [feature, { pass, total }] of unclaimed) console.log(`  ${feature}: ${total} tests (${pass} pass anyway)`);
  process.exit(claimed.fail.length === 0 ? 0 : 1);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((error) => {
    console.error(error.stack ?? error.message);
    process.exit(2);
  });
}
