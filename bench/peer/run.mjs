#!/usr/bin/env node
// `npm run bench:peer`: stratus's gateway against the gateway the well-known Node tutorials build
// (express + http-proxy-middleware + opossum + express-rate-limit), with the same policies
// (policy.mjs), in front of the same upstream (upstream-server.mjs, one Node process both reach
// over loopback HTTP), under the same load (autocannon, bench/lib/load.mjs), rounds interleaved.
// The upstream called directly is the ceiling; a bare pass-through in workerd shows the runtime's
// own share. The same run climbs the cost ladder (bench/ladder/ladder-worker.ts): the catalog
// route built up from the gateway's own pieces, one rung at a time, to the whole gateway, by a
// signed-in caller. Ratios go to bench/RESULTS.md (`## Peer comparison`, `## Cost ladder`);
// nothing asserts a number.
import { mkdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import os from 'node:os';
import { join } from 'node:path';
import { Log, LogLevel, Miniflare } from 'miniflare';
import { bundledWorkerOptions } from '../../scripts/worker-bundle.mjs';
import { ROOT } from '../../scripts/workers.mjs';
import { SignJWT, importJWK } from 'jose';
import { generateSigningKeyPair } from '../../scripts/dev-keys.mjs';
import { buildBundles, disposeAll, externalService, gatewayLikeWorker, request, startGateway } from '../lib/gateway-target.mjs';
import { childPids, processCpuMs } from '../lib/process-cpu.mjs';
import { positiveKnob } from '../lib/env-knob.mjs';
import { load } from '../lib/load.mjs';
import { pollUntil } from '../../scripts/poll-until.mjs';
import { writeSection } from '../lib/results-file.mjs';
import { latencySummary, median } from '../lib/stats.mjs';
import { startChild, stopAll } from './child-server.mjs';
import { PREFIX, stratusRoutePolicies } from './policy.mjs';
import { ladderSection, LADDER_RUNGS } from './ladder-report.mjs';
import { peerSection } from './report.mjs';

const RESULTS = join(ROOT, 'bench', 'RESULTS.md');
const RAW_OUT = join(ROOT, 'bench', '.out', 'peer.json'); // git-ignored
const UPSTREAM_PATH = '/products/prod_01';
const CONNECTIONS = 10; // as the other gateway benchmarks

const settings = { rounds: positiveKnob('BENCH_ROUNDS', 3, { integer: true }), durationS: positiveKnob('BENCH_DURATION_S', 5), warmupS: 2, connections: CONNECTIONS };

// The backstop: autocannon stops itself and every set-up call has a deadline, but nothing here
// may outlive its budget; Miniflare kills its workerd and the children die with their pipes.
const TARGETS = 5 + LADDER_RUNGS.length;
const budgetMs = (settings.rounds * settings.durationS * TARGETS * 2 + 240) * 1000;
const watchdog = setTimeout(async () => {
  console.error(`peer benchmark still running after ${Math.round(budgetMs / 1000)} s; stopping`);
  await Promise.allSettled([disposeAll(), stopAll()]);
  process.exit(1);
}, budgetMs);
watchdog.unref();

const loadAtStart = os.loadavg()[0];

/** Runs `start` and answers what it started with the processes it added under this runner (a Miniflare's workerd). */
async function withPids(start) {
  const before = new Set(childPids(process.pid));
  const started = await start();
  return { started, pids: childPids(process.pid).filter((pid) => !before.has(pid)) };
}

/** Sequential calls until the gateway refuses one as circuit-open; answers how many it took. */
async function callsToOpen(gateway) {
  for (let call = 1; call <= 30; call++) {
    const answer = await request(gateway.url(`${PREFIX}/products/breaker-check-${call}`));
    if (answer.status === 503 && answer.body.includes('circuit-open')) return call;
  }
  return null;
}

/** Calls the target every 250 ms until it answers 200 (its breaker closed again), within 30 s. */
function closed(target) {
  return pollUntil(`${target.key}: its breaker closed after the upstream recovered`, () => request(target.url), (answer) => answer.status === 200, { timeoutMs: 30_000, intervalMs: 250 });
}

/**
 * bench/gateway's bare Hono pass-through (one route, the prefix stripped, nothing else) in its own
 * workerd, its CATALOG binding sent to the same upstream: what workerd itself costs on this path.
 */
async function startPassthrough(upstreamUrl) {
  const worker = bundledWorkerOptions(join(ROOT, 'bench/gateway/passthrough.wrangler.toml'), 'bench-peer-passthrough');
  const mf = new Miniflare({
    host: '127.0.0.1',
    port: 0,
    logRequests: false,
    cf: false,
    log: new Log(LogLevel.WARN),
    workers: [{ ...worker, serviceBindings: { CATALOG: externalService(upstreamUrl) } }],
  });
  return { base: await mf.ready, dispose: () => mf.dispose() };
}

/**
 * Signed-in callers for the ladder: an ES256 key standing in for the users service's (its public
 * half served as the JWKS by the upstream), and one access token per connection, as the users
 * service issues them (issuer, audience, subject, an hour to live).
 */
async function signedInCallers(connections) {
  const { privateJwk, publicJwk } = await generateSigningKeyPair('bench-users');
  const key = await importJWK(privateJwk, 'ES256');
  const tokens = [];
  for (let n = 0; n < connections; n++) {
    tokens.push(
      await new SignJWT({ roles: [] })
        .setProtectedHeader({ alg: 'ES256', typ: 'JWT', kid: privateJwk.kid })
        .setIssuer('stratus-users')
        .setAudience('stratus')
        .setSubject(`bench-user-${n + 1}`)
        .setIssuedAt()
        .setExpirationTime('1h')
        .sign(key),
    );
  }
  return { jwks: JSON.stringify({ keys: [publicJwk] }), headersFor: (n) => ({ authorization: `Bearer ${tokens[n]}` }) };
}

let section;
let ladder;
let passthrough;
let otlpSink;

/** An OTLP/HTTP endpoint that reads every export and drops it, counting requests, spans and log records. */
async function startOtlpSink() {
  const received = { requests: 0, spans: 0, logRecords: 0 };
  const server = createServer((request, response) => {
    let body = '';
    request.setEncoding('utf8');
    request.on('data', (chunk) => (body += chunk));
    request.on('end', () => {
      received.requests += 1;
      // Counted without parsing: each span and each log record carries exactly one of these keys.
      received.spans += body.split('"kind":').length - 1;
      received.logRecords += body.split('"severityNumber"').length - 1;
      response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${server.address().port}`, received, close: () => new Promise((resolve) => server.close(resolve)) };
}
try {
  const callers = await signedInCallers(CONNECTIONS);
  const upstream = await startChild(join(ROOT, 'bench/peer/upstream-server.mjs'), { JWKS: callers.jwks });
  const express = await startChild(join(ROOT, 'bench/peer/express-gateway.mjs'), { UPSTREAM_URL: upstream.url('/') });
  // Whose CPU time each target's load is measured by: its own gateway process (never the upstream).
  const pidsOf = { express: [express.pid] };
  console.log('bundling the gateway with `wrangler deploy --dry-run`…');
  await buildBundles('peer');
  const externalServices = { CATALOG: upstream.url('/'), USERS: upstream.url('/') };
  const ladderWorker = gatewayLikeWorker(join(ROOT, 'bench/ladder/ladder-worker.ts'), 'peer-ladder');
  // The same gateway code without its [assets] table: locally, Miniflare puts an asset router and
  // an asset worker in front of a worker with assets, two more hops in the same workerd on every
  // request (run_worker_first included); on Cloudflare that routing runs in the platform, not in
  // the worker's isolate. Measured both ways so the edge-shaped number and the local one are seen.
  const edgeWorker = gatewayLikeWorker(join(ROOT, 'workers/gateway/index.ts'), 'peer-edge');
  // The edge gateway again with tracing on: every span and log line exported as OTLP/HTTP JSON to
  // a sink in this process that reads and drops them (what a collector costs is not the gateway's).
  otlpSink = await startOtlpSink();
  const started = {
    stratus: await withPids(() => startGateway({ name: 'stratus', routePolicies: stratusRoutePolicies, externalServices })),
    edge: await withPids(() => startGateway({ name: 'stratus-edge', worker: edgeWorker, routePolicies: stratusRoutePolicies, externalServices })),
    traced: await withPids(() =>
      startGateway({ name: 'stratus-traced', worker: edgeWorker, vars: { OTEL_EXPORTER_OTLP_ENDPOINT: otlpSink.url }, routePolicies: stratusRoutePolicies, externalServices }),
    ),
    passthrough: await withPids(() => startPassthrough(upstream.url('/'))),
    ladder: await withPids(() => startGateway({ name: 'ladder', worker: ladderWorker, routePolicies: stratusRoutePolicies, externalServices })),
  };
  const stratus = started.stratus.started;
  const edge = started.edge.started;
  const traced = started.traced.started;
  passthrough = started.passthrough.started;
  const ladderGateway = started.ladder.started;
  Object.assign(pidsOf, { stratus: started.stratus.pids, edge: started.edge.pids, traced: started.traced.pids, passthrough: started.passthrough.pids, ladder: started.ladder.pids });

  const targets = [
    { key: 'upstream', label: 'upstream, called directly (the ceiling)', url: upstream.url(UPSTREAM_PATH) },
    { key: 'express', label: 'express + http-proxy-middleware + opossum + express-rate-limit', url: express.url(`${PREFIX}${UPSTREAM_PATH}`) },
    { key: 'stratus', label: 'stratus gateway (workerd)', url: stratus.url(`${PREFIX}${UPSTREAM_PATH}`) },
    { key: 'edge', label: 'stratus gateway, no local asset router (the worker as Cloudflare runs it)', url: edge.url(`${PREFIX}${UPSTREAM_PATH}`) },
    { key: 'traced', label: 'the same, tracing on (spans and logs exported over OTLP/HTTP)', url: traced.url(`${PREFIX}${UPSTREAM_PATH}`) },
    { key: 'passthrough', label: 'bare Hono pass-through in workerd (not a peer: the runtime’s own share)', url: new URL(`${PREFIX}${UPSTREAM_PATH}`, passthrough.base).href, bare: true },
    // The ladder: one workerd, the rung named by a header; from `auth` up, each connection is a signed-in caller.
    ...LADDER_RUNGS.map((rung) => ({
      key: `ladder:${rung.key}`,
      label: rung.label,
      url: ladderGateway.url(`${PREFIX}${UPSTREAM_PATH}`),
      headers: { 'x-ladder-rung': rung.key },
      headersFor: rung.signedIn ? callers.headersFor : undefined,
      bare: !rung.limited,
      pids: pidsOf.ladder,
    })),
  ];
  for (const target of targets) {
    const answer = await request(target.url, { headers: { ...target.headers, ...target.headersFor?.(0), 'cf-connecting-ip': '10.77.0.1' } });
    if (answer.status !== 200 || answer.body !== 'ok') throw new Error(`${target.key}: GET answered ${answer.status}: ${answer.body.slice(0, 300)}`);
    if (target.key !== 'upstream' && !target.bare && !answer.headers.get('ratelimit')) throw new Error(`${target.key}: no RateLimit header, so its rate limit is not in the path`);
    target.rounds = [];
    target.latencies = [];
    target.requests = 0;
    target.non2xx = 0;
    target.errors = 0;
    target.cpuMs = 0;
    target.pids ??= pidsOf[target.key] ?? [];
  }

  // Not timed, and first, while the breakers' windows are empty (after the load, thousands of
  // successes would outweigh any failures): both breakers are really in the path. The upstream
  // fails; each gateway is called until it refuses a call itself (503 circuit-open); then the
  // upstream recovers, and the load waits until each breaker has let a probe through and closed.
  await request(upstream.url('/__bench/fail'), { method: 'POST' });
  const breakerCheck = { express: await callsToOpen(express), stratus: await callsToOpen(stratus) };
  await request(upstream.url('/__bench/ok'), { method: 'POST' });
  for (const target of targets.filter((t) => t.key === 'express' || t.key === 'stratus')) await closed(target);

  for (const target of targets) await load({ url: target.url, connections: CONNECTIONS, durationS: settings.warmupS, headers: target.headers, headersFor: target.headersFor });
  for (let round = 1; round <= settings.rounds; round++) {
    // Who goes first rotates, so a slow start or a busy neighbour does not always hit one target.
    const order = targets.map((_, i) => targets[(i + round) % targets.length]);
    for (const target of order) {
      // CPU time the target's own process (its workerd, or express) spent on its load: per
      // request, it holds still better than req/s while other work on the machine comes and goes.
      const cpuBefore = processCpuMs(target.pids);
      const result = await load({
        url: target.url,
        connections: CONNECTIONS,
        durationS: settings.durationS,
        headers: target.headers,
        headersFor: target.headersFor,
        onResponse: (status, ms) => (status === 200 ? target.latencies.push(ms) : target.non2xx++),
      });
      target.cpuMs += processCpuMs(target.pids) - cpuBefore;
      target.rounds.push(result.rps);
      target.requests += result.requests;
      target.errors += result.errors;
    }
    console.log(`  round ${round}/${settings.rounds}: ${targets.map((t) => `${t.key} ${Math.round(t.rounds.at(-1))}`).join('  ')} req/s`);
  }

  const results = Object.fromEntries(
    targets.map((t) => [
      t.key,
      { label: t.label, ...latencySummary(t.latencies), rps: median(t.rounds), roundsRps: t.rounds, requests: t.requests, non2xx: t.non2xx, errors: t.errors, cpuUsPerRequest: (t.cpuMs * 1000) / t.requests },
    ]),
  );
  const run = { date: new Date().toISOString(), loadAtStart, settings, path: `${PREFIX}${UPSTREAM_PATH}`, breakerCheck, otlp: otlpSink.received, ...results };
  mkdirSync(join(ROOT, 'bench', '.out'), { recursive: true });
  writeFileSync(RAW_OUT, JSON.stringify(run, null, 2));
  section = peerSection(run);
  ladder = ladderSection(run);
} finally {
  await Promise.allSettled([disposeAll(), stopAll(), passthrough?.dispose(), otlpSink?.close()]);
  clearTimeout(watchdog);
}
writeSection(RESULTS, section);
writeSection(RESULTS, ladder);
console.log(`\n${section}\n${ladder}\nwrote ${RESULTS} and ${RAW_OUT}`);
