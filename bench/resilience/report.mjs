// Turns the three resilience measurements into the `## Resilience` section of bench/RESULTS.md:
// the machine note, the method, the numbers and the ratios. Only that section is replaced, so
// bench/gateway's section (and any other) stays as its own run wrote it.
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

const statusList = (statuses) =>
  Object.entries(statuses)
    .map(([status, n]) => `${n} × ${status}`)
    .join(', ') || 'none';

export function machineNote(loadAtStart) {
  const require = createRequire(join(ROOT, 'package.json'));
  const version = (name) => require(`${name}/package.json`).version;
  const cpus = os.cpus();
  return `${cpus[0]?.model ?? 'unknown CPU'}, ${cpus.length} cores, Node ${process.version}, workerd ${version('workerd')}, miniflare ${version('miniflare')}, opossum ${version('opossum')}; 1-min load average ${loadAtStart.toFixed(2)} before the run`;
}

function openVsHang(a, settings) {
  const rows = [
    {
      target: '(a1) breaker open',
      upstream: '503 to everything',
      'the client gets': `${a.answers.open.status} \`${a.answers.open.type}\` problem+json${a.answers.open.fallback ? `, fallback ${a.answers.open.fallback}` : ', no fallback'}`,
      requests: a.open.requests,
      statuses: statusList(a.open.statuses),
      'p50 ms': fixed(a.open.p50, 2),
      'p99 ms': fixed(a.open.p99, 2),
    },
    {
      target: '(a2) upstream hangs, no breaker',
      upstream: 'never answers',
      'the client gets': `${a.answers.hang.status} \`${a.answers.hang.type}\` problem+json after the deadline`,
      requests: a.hang.requests,
      statuses: statusList(a.hang.statuses),
      'p50 ms': fixed(a.hang.p50, 2),
      'p99 ms': fixed(a.hang.p99, 2),
    },
  ];
  return `### (a) A call while the breaker is open vs a call to a hanging upstream

- Method: two gateways (catalog route, \`timeoutMs\` ${a.timeoutMs}, retry off), each with the bench upstream
  (bench/lib/upstream-worker.ts) as its services. (a1): the upstream answers 503 to
  everything; ${a.callsToOpen} sequential calls opened the breaker (\`minimumCalls\` 5, 50 %), and \`openDurationMs\`
  ${a.policies.open.catalog.breaker.openDurationMs} keeps it open for the whole run (still \`${a.stateAfter}\` at the end), so every measured call is
  refused inside the isolate: no upstream call and no Durable Object call. (a2): the upstream keeps
  a timer pending and never answers; the route has no breaker (\`"breaker": false\`), so every call
  waits out the deadline, as every call does before a breaker opens. GET ${a.path}, autocannon over
  ${a.connections} connections to each, ${settings.warmupS} s warm-up for (a1), then ${settings.rounds} rounds × ${settings.durationS} s alternating the two
  (who goes first alternates too). p50/p99 over every response of all rounds. The hanging target
  completes one request per connection per deadline, so its sample is small: see requests.
- The open breaker answers with the gateway's own problem, not a fallback: the catalog's fallbacks
  (last good answer, most-viewed list for \`/products\`) have nothing stored, since this upstream
  never answered well. The gateway logs every 503 at \`warn\` (the level these runs keep), so (a1) also wrote one log line per
  request (${a.logLines.open} in all; Node drops them unread, their writing is in the numbers).

${markdownTable(rows)}

open ÷ hang: p50 **${ratio(a.open.p50, a.hang.p50, 4)}**, p99 **${ratio(a.open.p99, a.hang.p99, 4)}**; a refused call returns ${fixed(a.hang.p50 / a.open.p50, 0)}× sooner at p50 and ${fixed(a.hang.p99 / a.open.p99, 0)}× sooner at p99.
`;
}

/** (max − min) ÷ median of the rounds, in percent: how much one target moves on its own. */
const spread = (rounds) => ((Math.max(...rounds) - Math.min(...rounds)) / median(rounds)) * 100;

function hotPath(b, settings) {
  const row = (label, r) => ({
    target: label,
    'req/s (median)': fixed(r.rps, 0),
    'rounds req/s': r.roundsRps.map((x) => fixed(x, 0)).join(' / '),
    'p50 ms': fixed(r.p50, 3),
    'p99 ms': fixed(r.p99, 3),
    'non-2xx / errors': `${r.non2xx} / ${r.errors}`,
  });
  const cost = (1 - b.with.rps / b.without.rps) * 100;
  const pairs = b.with.roundsRps.map((x, i) => x / b.without.roundsRps[i]);
  return `### (b) Gateway throughput with the breaker in the path vs without it (closed)

- Method: two gateways identical but for the catalog route's breaker: the route table's own
  (\`minimumCalls\` 5, 50 %, one Durable Object per route, outcomes batched to it every
  BREAKER_REPORT_INTERVAL_MS = 1000 ms) or none (\`"breaker": false\`). The same \`ok\` upstream behind
  both (an upstream that does nothing, so the gateway's own work dominates); retry, bulkhead,
  deadline and fallbacks as the route table has them, in both. GET ${b.path}, autocannon over
  ${b.connections} keep-alive connections, ${settings.warmupS} s warm-up each, then ${settings.rounds} rounds × ${settings.durationS} s alternating the two (who
  goes first alternates too); req/s is the median round, p50/p99 over every 200 of all rounds.

${markdownTable([row('(b1) with breaker', b.with), row('(b2) without breaker', b.without)])}

with ÷ without: req/s **${ratio(b.with.rps, b.without.rps, 3)}** (median rounds; ${
    cost >= 0 ? `the breaker costs ${fixed(cost, 1)} % of throughput` : `the gateway with the breaker was the faster, by ${fixed(-cost, 1)} %`
  }; the target
is a cost under 5 %), p50 **${ratio(b.with.p50, b.without.p50, 3)}**, p99 **${ratio(b.with.p99, b.without.p99, 3)}**. Round by round (each pair run back to
back), with ÷ without: ${pairs.map((x) => fixed(x, 3)).join(' / ')}, median **${fixed(median(pairs), 3)}**. Each
target's own rounds spread over ${fixed(spread(b.with.roundsRps), 1)} % (with) and ${fixed(spread(b.without.roundsRps), 1)} % (without) of their median: a
difference smaller than that is not resolved by this run.

- The breaker stayed \`${b.breaker.state}\`. Its Durable Object's window (the last ${b.breaker.windowMs / 1000} s, whole 3 s buckets)
  held ${b.breaker.windowCalls} calls, against ${b.breaker.answeredInWindow} answered by (b1) in the last ${b.breaker.windowMs / 1000} s: ${
    b.breaker.windowCalls < b.breaker.answeredInWindow * 0.9
      ? `**outcomes are lost on the way** (reports that failed or were cut short)`
      : 'every outcome arrived'
  }.
`;
}

function micro(c) {
  const byKey = Object.fromEntries(c.variants.map((v) => [v.key, v]));
  const rows = c.variants.map((v) => ({
    variant: v.name,
    'ns/call (median)': fixed(v.nsPerCall, 0),
    'rounds ns/call': v.rounds.map((x) => fixed(x, 0)).join(' / '),
    'above bare, ns': v.key === 'bare' ? '—' : fixed(v.nsPerCall - byKey.bare.nsPerCall, 0),
    '÷ opossum': ratio(v.nsPerCall, byKey.opossum.nsPerCall),
  }));
  return `### (c) Per-call overhead in Node: our breaker policy vs opossum

- Method: bench/resilience/micro.mjs bundles bench/resilience/micro-entry.ts with esbuild (Node 20
  cannot import .ts) and times, in one Node process, ${c.calls.toLocaleString('en')} sequential awaited calls per round of the
  same trivial \`async () => 1\` wrapped by each variant, all closed: a warm-up round (discarded), then
  ${c.rounds} rounds visiting the variants in rotated order; the median round is reported. Ours is
  \`circuitBreaker(new BreakerClient({ breaker: DEFAULT_BREAKER_OPTIONS, authority: () => authority,
  reportIntervalMs: 1000 }))\` over one \`MemoryBreakerAuthority\`; its outcomes are reported by
  \`flush()\` after each timed loop (${c.reports} reports), as a report interval would (a timed loop
  never yields to the client's own timer). opossum ${c.opossumVersion}: \`new CircuitBreaker(fn).fire()\`.

${markdownTable(rows)}

ours ÷ opossum (defaults): **${ratio(byKey.ours.nsPerCall, byKey.opossum.nsPerCall)}**; under the gateway's \`wrap\` (caller context given):
**${ratio(byKey.oursCtx.nsPerCall, byKey.opossum.nsPerCall)}**.

- Where our time goes: called on its own, the policy makes a context with a fresh
  \`AbortController\` per call (\`fullContext\`), about ${fixed(byKey.ours.nsPerCall - byKey.oursCtx.nsPerCall, 0)} ns in Node 20 (the first two "ours"
  rows differ only in that; the context the gateway passes in already has a signal). Under the
  gateway's \`wrap\` what is left is one synchronous permit check and adding the outcome to three
  counters (reported as counts, so the cost does not grow with traffic between reports).
  opossum's default 10 s \`timeout\` costs it one timer per call (the two opossum rows).
`;
}

export function resilienceSection({ date, loadAtStart, settings, a, b, c, durations }) {
  // The knobs that were set, so the line can be run again as it stands.
  const knobs = ['BENCH_ROUNDS', 'BENCH_DURATION_S', 'BENCH_MICRO_CALLS'].filter((name) => process.env[name]).map((name) => `${name}=${process.env[name]} `);
  const command = `${knobs.join('')}npm run bench:resilience`;
  const took = Object.entries(durations)
    .map(([key, s]) => `${key.length === 1 ? `(${key})` : key} ${fixed(s, 0)} s`)
    .join(', ');
  return `## Resilience

- Date: ${date}
- Machine: ${machineNote(loadAtStart)}
- Method: \`${command}\` (bench/resilience/run.mjs). The gateway is its
  \`wrangler deploy --dry-run\` bundle served by workerd through Miniflare's API on 127.0.0.1 (no
  \`wrangler dev\` proxy), one Miniflare per target, its CATALOG and PAYMENTS bound to the bench
  upstream; every var .dev.vars could set is pinned (LOG_LEVEL=warn, METRICS_FLUSH_INTERVAL_MS and
  BREAKER_REPORT_INTERVAL_MS 1000, ROUTE_POLICIES per target). Load generator and workerd share the
  ${os.cpus().length} cores, so read the ratios, not the absolute figures. Took: ${took}.

${openVsHang(a, settings)}
${hotPath(b, settings)}
${micro(c)}`;
}

/** Replaces the `## Resilience` section of `file` (from its heading to the next `## `), or appends it. */
