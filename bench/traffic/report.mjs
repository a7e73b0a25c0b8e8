// Turns the traffic measurements into the `## Traffic` section of bench/RESULTS.md: machine note,
// method, numbers, ratios and what they mean. Only that section is replaced.
import { createRequire } from 'node:module';
import os from 'node:os';
import { join } from 'node:path';
import { ROOT } from '../../scripts/workers.mjs';
import { fixed, median, ratio } from '../lib/stats.mjs';
export { writeSection } from '../lib/results-file.mjs';

const markdownTable = (records) => {
  const headers = Object.keys(records[0]);
  return [`| ${headers.join(' | ')} |`, `|${headers.map(() => ' --- |').join('')}`, ...records.map((r) => `| ${headers.map((h) => r[h]).join(' | ')} |`)].join('\n');
};
const counts = (record) =>
  Object.entries(record)
    .map(([value, n]) => `${n} × ${value}`)
    .join(', ') || 'none';
const rounds = (r) => r.roundsRps.map((x) => Math.round(x)).join(' / ');
const spread = (r) => ((Math.max(...r.roundsRps) - Math.min(...r.roundsRps)) / r.rps) * 100;
const pairRatios = (x, y) => x.roundsRps.map((v, i) => v / y.roundsRps[i]);
const sum = (record) => Object.values(record).reduce((a, b) => a + b, 0);

function machineNote(loadAtStart) {
  const require = createRequire(join(ROOT, 'package.json'));
  const version = (name) => require(`${name}/package.json`).version;
  const cpus = os.cpus();
  return `${cpus[0]?.model ?? 'unknown CPU'}, ${cpus.length} cores, Node ${process.version}, workerd ${version('workerd')}, miniflare ${version('miniflare')}, autocannon ${version('autocannon')}; 1-min load average ${loadAtStart.toFixed(2)} before the run`;
}

function rateLimitPart(a, micro, settings) {
  const row = (name, r) => ({
    target: name,
    'req/s (median)': Math.round(r.rps),
    'rounds req/s': rounds(r),
    'p50 ms': fixed(r.p50, 3),
    'p99 ms': fixed(r.p99, 3),
    statuses: counts(r.statuses),
    errors: r.errors,
  });
  const pairs = pairRatios(a.on, a.off);
  const allowed = Object.entries(a.decisions).filter(([k]) => k.includes('decision="allowed"')).reduce((n, [, v]) => n + v, 0);
  const other = Object.entries(a.decisions).filter(([k]) => !k.includes('decision="allowed"'));
  const sent = a.on.warmupRequests + a.on.requests + 1;
  const loads = settings.rounds + 1; // the warm-up, then each round
  const extra = allowed - sent;
  const extraNote =
    extra > 0 && extra <= loads * a.connections
      ? `; the ${extra} more are requests still in flight when each of the ${loads} loads stopped (at most one per connection, ${loads * a.connections} in all): decided, but not counted by autocannon`
      : extra === 0
        ? ''
        : `; ${Math.abs(extra)} ${extra > 0 ? 'more decisions than requests sent, more than the in-flight ones explain' : 'fewer decisions than requests: some were not counted'}`;
  const rps = a.on.rps / a.off.rps;
  const limiter = micro.variants.find((v) => v.key === 'limiterSliding');
  return `### (a) Rate-limit decision cost: the catalog's limit (every request allowed) vs no limit

- Method: two gateways identical but for the catalog route's rate limit, set through
  \`ROUTE_POLICIES\`: (a1) \`"rateLimit": ${JSON.stringify(a.policy)}\` (the route's own
  algorithm, a limit no run reaches, so every request is allowed and counted), decided by the
  RateLimiter Durable Object of (route, caller), the default backend (no Upstash vars); (a2)
  \`"rateLimit": false\`. Both: \`CACHE_ENABLED=false\` (every request meets the limiter, then the
  upstream), the bench upstream answering \`ok\` at once (bench/lib/upstream-worker.ts), the
  route's breaker, retry, bulkhead and deadline as the route table has them. GET ${a.path}, anonymous,
  autocannon over ${a.connections} keep-alive connections, each with its own \`CF-Connecting-IP\`
  (the limiter keys anonymous callers by that header alone, workers/gateway/traffic/rate-limit.ts; one address would put
  every request on one object): ${settings.warmupS} s warm-up each, then ${settings.rounds} rounds × ${settings.durationS} s, the order
  alternating; req/s is the median round, p50/p99 over every 200 of all rounds.

${markdownTable([row('(a1) rate limit on (Durable Object)', a.on), row('(a2) rate limit off', a.off)])}

on ÷ off: req/s **${fixed(rps, 3)}** (the decision costs ${fixed((1 - rps) * 100, 1)} % of throughput), p50 **${ratio(a.on.p50, a.off.p50, 3)}**
(+${fixed(a.on.p50 - a.off.p50, 3)} ms), p99 **${ratio(a.on.p99, a.off.p99, 3)}**. Round by round (each pair back to back): ${pairs.map((x) => fixed(x, 3)).join(' / ')},
median **${fixed(median(pairs), 3)}**. Each target's rounds spread over ${fixed(spread(a.on), 1)} % (on) and ${fixed(spread(a.off), 1)} % (off) of
their median.

- Check, not timed: the gateway counted ${allowed} \`allowed\` decisions${other.length ? ` and ${other.map(([k, v]) => `${v} ${k}`).join(', ')}` : ' and no refused or error ones'}
  (rate_limit_decisions_total on /metrics) for ${sent} requests autocannon counted to (a1) (warm-up and the set-up
  check included)${extraNote}; (a2) counted ${sum(a.decisionsOff)}. Every response carried \`RateLimit-Policy\` on (a1) (checked once
  before the load) and none on (a2).

#### The decision alone, in Node

- Method: bench/traffic/micro.mjs bundles bench/traffic/micro-entry.ts with esbuild and times
  ${micro.calls.toLocaleString('en')} sequential decisions per round, state threaded from one to the next and the
  clock advancing 1 ms per decision, every one allowed (the policy above, and the same as a token
  bucket): a warm-up round (discarded), then ${micro.rounds} rounds visiting the variants in rotated order;
  the median round is reported.

${markdownTable(micro.variants.map((v) => ({ variant: v.label, 'ns/decision (median)': fixed(v.nsPerDecision, 0), 'rounds ns/decision': v.roundsNs.map((x) => fixed(x, 0)).join(' / ') })))}

- What it means: the algorithm the object runs per request (\`limiterStep\`, sliding window) takes
  about ${fixed(limiterSliding(limiter), 2)} µs; the ${fixed(a.on.p50 - a.off.p50, 3)} ms the gateway's p50 grew by, and the
  ${fixed((1 - rps) * 100, 1)} % of throughput, are almost all the Durable Object call around it
  (\`idFromName\`, a stub, an RPC to the object and back, serialized per object), not the arithmetic.
  Here the objects live in the same workerd process; on Cloudflare an object may be in another
  location, and that round trip is what a deployment pays per request (the Upstash backend's is an
  HTTPS call to Redis instead, not measured here).`;
}
const limiterSliding = (v) => (v ? v.nsPerDecision / 1000 : NaN);

const nearOne = (x) => Math.abs(x - 1) < 0.15;

function cachePart(b, settings) {
  const row = (name, upstream, r) => ({
    target: name,
    upstream,
    'x-cache (all rounds)': counts(r.xCache),
    'req/s (median)': Math.round(r.rps),
    'rounds req/s': rounds(r),
    'p50 ms': fixed(r.p50, 3),
    'p99 ms': fixed(r.p99, 3),
    'non-200 / errors': `${r.requests - (r.statuses['200'] ?? 0)} / ${r.errors}`,
  });
  const hitShare = (b.hit.xCache.HIT ?? 0) / b.hit.requests;
  const metricsLine = counts(Object.fromEntries(Object.entries(b.cacheCounts).map(([k, v]) => [/result="([^"]+)"/.exec(k)?.[1] ?? k, v])));
  return `### (b) Cache HIT vs the upstream

- Method: three gateways identical but for \`CACHE_ENABLED\` and the upstream's delay (the bench
  upstream, \`DELAY_MS\`): (b1) cache on, upstream answering after ${b.delayMs} ms; every measured response
  is timed only if its \`x-cache\` is \`HIT\` (counted per response from the headers; the others are
  listed); (b2) \`CACHE_ENABLED=false\`, the same ${b.delayMs} ms upstream, so every request waits for
  it (\`BYPASS\`); (b3) \`CACHE_ENABLED=false\`, the upstream answering at once, the gateway's whole
  path with nothing to wait on. The catalog route's cache policy as the route table has it (fresh
  30 s, stale-while-revalidate 60 s, L1 Cache API only: no Upstash vars); its rate limit off in all
  three (\`"rateLimit": false\`, measured in (a)); breaker, retry, bulkhead and deadline as the route
  table has them. Checked before the load: (b1) answered MISS then HIT, (b2) and (b3) BYPASS. GET
  ${b.path}, anonymous, ${b.connections} keep-alive connections each with its own \`CF-Connecting-IP\`, ${settings.warmupS} s
  warm-up each, then ${settings.rounds} rounds × ${settings.durationS} s visiting the three in rotated order; req/s is the
  median round (all responses), p50/p99 over the timed responses of all rounds.

${markdownTable([
    row('(b1) cache HIT', `${b.delayMs} ms (not called)`, b.hit),
    row('(b2) cache off, slow upstream', `${b.delayMs} ms`, b.slow),
    row('(b3) cache off, instant upstream', 'at once', b.fast),
  ])}

HIT ÷ slow upstream (b1 ÷ b2): req/s **${ratio(b.hit.rps, b.slow.rps)}**, p50 **${ratio(b.hit.p50, b.slow.p50, 3)}**, p99 **${ratio(b.hit.p99, b.slow.p99, 3)}**.
HIT ÷ instant upstream (b1 ÷ b3): req/s **${ratio(b.hit.rps, b.fast.rps)}**, p50 **${ratio(b.hit.p50, b.fast.p50, 3)}**, p99 **${ratio(b.hit.p99, b.fast.p99, 3)}**.
Round by round, b1 ÷ b2: ${pairRatios(b.hit, b.slow).map((x) => fixed(x, 2)).join(' / ')}; b1 ÷ b3: ${pairRatios(b.hit, b.fast).map((x) => fixed(x, 2)).join(' / ')}.

- ${fixed(hitShare * 100, 2)} % of (b1)'s measured responses were HITs (${counts(b.hit.xCache)}); over its whole life,
  warm-up and checks included, the gateway counted ${metricsLine} (cache_requests_total). A STALE
  appears when the entry passes its 30 s TTL during the run: answered from the cache at once while
  one background refresh (a ${b.delayMs} ms upstream call) runs, so every request in those few
  milliseconds is a STALE. STALEs are counted in req/s but not timed.
- What it means: with a ${b.delayMs} ms upstream, a HIT is not only faster for its caller (p50 ${fixed(b.hit.p50, 2)} ms
  against ${fixed(b.slow.p50, 2)} ms) but lets the same ${b.connections} connections do far more: (b2) is bounded by
  connections ÷ latency, not by CPU. Against the instant upstream (b3) the HIT still skips the
  service binding, the breaker and the upstream's own work, but pays for a Cache API read, a
  tag-version check (through a 1 s isolate cache) and rebuilding the response; b1 ÷ b3 is what a
  HIT costs or saves when the upstream itself is free${nearOne(b.hit.p50 / b.fast.p50) && nearOne(b.hit.rps / b.fast.rps) ? `: here about the same at the median (a HIT costs about what a call to an upstream that does nothing costs)${b.hit.p99 < b.fast.p99 ? ', with a shorter tail' : ''}` : ''}. All in one workerd on 2 cores shared with
  autocannon: the absolute figures are this machine's, the ratios the result.`;
}

export function trafficSection({ date, loadAtStart, settings, durations, a, micro, b }) {
  const took = Object.entries(durations)
    .map(([k, s]) => `${k === 'micro' ? '(a) micro' : k.length === 1 ? `(${k})` : k} ${s < 10 ? s.toFixed(1) : Math.round(s)} s`)
    .join(', ');
  return `## Traffic

- Date: ${date}
- Machine: ${machineNote(loadAtStart)}
- Method: \`npm run bench:traffic\` (bench/traffic/run.mjs). The gateway is its \`wrangler deploy
  --dry-run\` bundle served by workerd through Miniflare's API on 127.0.0.1 (no \`wrangler dev\`
  proxy), one Miniflare per target, every service binding (CATALOG, CATALOG_CANARY, USERS,
  PAYMENTS) bound to the bench upstream; every var .dev.vars could set is pinned (LOG_LEVEL=warn,
  METRICS_FLUSH_INTERVAL_MS and BREAKER_REPORT_INTERVAL_MS 1000, no Upstash, CACHE_ENABLED and
  ROUTE_POLICIES per target). Load generator and workerd share the ${os.cpus().length} cores, so read the ratios,
  not the absolute figures. Took: ${took}.

${rateLimitPart(a, micro, settings)}

${cachePart(b, settings)}
`;
}

