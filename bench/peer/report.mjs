// Turns a bench/peer run into the `## Peer comparison` section of bench/RESULTS.md: the machine
// note, the method (what is the same for both, and what is not), the numbers and the ratios.
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { ROOT } from '../../scripts/workers.mjs';
import { machineNote } from '../resilience/report.mjs';
import { fixed, ratio } from '../lib/stats.mjs';
import { BREAKER, RATE_LIMIT, TIMEOUT_MS } from './policy.mjs';

// Read from the file: http-proxy-middleware's `exports` do not let require() reach its package.json.
const version = (name) => JSON.parse(readFileSync(join(ROOT, 'node_modules', name, 'package.json'), 'utf8')).version;

export function peerSection(run) {
  const { settings, upstream, express, stratus, edge, traced, passthrough } = run;
  const row = (key, r) =>
    `| ${r.label} | ${key === 'upstream' ? '/products/prod_01' : run.path} | ${Math.round(r.rps)} | ${r.roundsRps.map(Math.round).join(' / ')} | ${fixed(r.p50, 2)} | ${fixed(r.p99, 2)} | ${r.cpuUsPerRequest > 0 ? Math.round(r.cpuUsPerRequest) : 'n/a'} | ${r.non2xx} | ${r.errors} | ${ratio(r.rps, upstream.rps)} |`;
  const opened = (calls) => (calls === null ? 'did not open within 30 calls' : `refused the ${calls}th call itself`);
  return `## Peer comparison

- Date: ${run.date}
- Machine: ${machineNote(run.loadAtStart)}. The peer stack: express ${version('express')}, http-proxy-middleware ${version('http-proxy-middleware')}, express-rate-limit ${version('express-rate-limit')} (opossum above)${run.loadAtStart > os.cpus().length / 2 ? '. Other work was busy on the machine (the load average above): absolute figures are low, and only the ratios within this run mean much.' : ''}
- Method: \`npm run bench:peer\` (bench/peer/run.mjs). The gateway the well-known Node tutorials
  build (express 5, http-proxy-middleware, opossum around the proxied call, express-rate-limit;
  bench/peer/express-gateway.mjs, its own Node process) against stratus's gateway (its
  \`wrangler deploy --dry-run\` bundle in workerd through Miniflare's API, no \`wrangler dev\`).
  Both are built from one policy file (bench/peer/policy.mjs) for the catalog route: the
  \`/api/catalog\` prefix stripped and proxied; a per-caller rate limit of ${RATE_LIMIT.limit.toLocaleString('en')} per
  ${RATE_LIMIT.windowMs / 1000} s, which never trips (both count every request and send RateLimit headers, neither
  refuses one); a breaker opening at ≥ ${BREAKER.failureRatePercent} % failures over ≥ ${BREAKER.minimumCalls} calls in ${BREAKER.windowMs / 1000} s, open ${BREAKER.openDurationMs / 1000} s; a
  ${TIMEOUT_MS / 1000} s upstream deadline; no retries. The same upstream for both: one Node HTTP server
  (bench/peer/upstream-server.mjs, its own process) answering \`ok\`; express reaches it through
  http-proxy-middleware (with a keep-alive agent, so upstream connections are reused as workerd
  reuses them), stratus through its \`CATALOG\` service binding pointed at the same
  address as a workerd external service, so both calls leave over loopback HTTP. autocannon on
  the same machine, GET over ${settings.connections} keep-alive connections, each its own CF-Connecting-IP (the
  callers both rate limits count); ${settings.warmupS} s warm-up per target, then ${settings.rounds} rounds × ${settings.durationS} s visiting the
  targets in turn (who goes first rotates); req/s is the median of the rounds, p50/p99 over
  every response. A check that each breaker is in the path: with the upstream
  failing, express ${opened(run.breakerCheck.express)}, stratus ${opened(run.breakerCheck.stratus)} (503 \`circuit-open\`; done
  first, while the breakers' windows are empty, and the load starts once both have closed again).
  The last row is not a peer: bench/gateway's bare Hono pass-through (one route, nothing else) in
  workerd with its binding sent to the same upstream, to show what workerd itself costs here.
  The row before it is the same gateway code without its \`[assets]\` table: locally Miniflare
  puts an asset router and an asset worker in front of a worker with static assets (two more
  hops in the same workerd on every request, \`run_worker_first\` or not); on Cloudflare that
  routing happens in the platform, outside the worker's isolate and its CPU time. The bare
  pass-through has no assets either, so this row is the like-for-like one for "the gateway's own
  work". "CPU µs/req": user+system time of the target's own process during its load ÷ its
  requests (workerd's, or Node's for express and the upstream).
- What is not the same, because stratus does it on every request and the express stack does
  not: the rate limit is exact across isolates and locations (each isolate spends a lease of the
  caller's allowance taken from the caller's Durable Object and renews it in the background;
  express-rate-limit's memory store counts in one process, a fixed window); the breaker's state
  lives in a Durable Object shared by every isolate (outcomes batched to it each second); and the gateway also assigns a request id, continues the trace context, adds the
  security headers, adds a service token for the upstream (signed once, reused while fresh), picks the canary version, keeps the
  last good answer for fallbacks, holds a bulkhead slot and counts metrics. Node runs the express
  stack on one thread; workerd and autocannon share the machine's 2 cores with it.

| target | path | req/s (median) | rounds req/s | p50 ms | p99 ms | CPU µs/req | non-2xx | errors | ÷ upstream |
| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |
${row('upstream', upstream)}
${row('express', express)}
${row('stratus', stratus)}
${row('edge', edge)}
${traced ? row('traced', traced) : ''}
${row('passthrough', passthrough)}

stratus ÷ express, same policies: req/s **${ratio(stratus.rps, express.rps)}**, p50 **${ratio(stratus.p50, express.p50)}**, p99 **${ratio(stratus.p99, express.p99)}** (req/s above 1 is faster; latency below 1 is faster).
Bare workerd pass-through ÷ express: req/s ${ratio(passthrough.rps, express.rps)}; stratus ÷ bare workerd pass-through: req/s ${ratio(stratus.rps, passthrough.rps)} with the local asset router, **${ratio(edge.rps, passthrough.rps)}** without it (the gateway's own work, like for like), CPU per request ${ratio(edge.cpuUsPerRequest, passthrough.cpuUsPerRequest)}× the bare pass-through's; without the asset router ÷ express: req/s ${ratio(edge.rps, express.rps)}, p99 ${ratio(edge.p99, express.p99)}.
${
  traced
    ? `Tracing on (the row before the pass-through: the edge gateway exporting every span and log line over OTLP/HTTP to a sink in the bench's process that reads and drops them; ${run.otlp.spans.toLocaleString('en')} spans and ${run.otlp.logRecords.toLocaleString('en')} log records in ${run.otlp.requests.toLocaleString('en')} export requests): ÷ bare workerd pass-through req/s **${ratio(traced.rps, passthrough.rps)}**, ÷ the same gateway with tracing off req/s ${ratio(traced.rps, edge.rps)}, p99 ${ratio(traced.p99, edge.p99)}, CPU per request ${ratio(traced.cpuUsPerRequest, edge.cpuUsPerRequest)}×.
`
    : ''
}`;
}
