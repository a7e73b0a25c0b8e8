// The cost ladder (bench/ladder/ladder-worker.ts) as the `## Cost ladder` section of
// bench/RESULTS.md: each rung's req/s, p50 and p99 against the bare rung's, measured in the same
// run as the peer comparison, and the CPU the gateway's workerd spent per request.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from '../../scripts/workers.mjs';
import { fixed, ratio } from '../lib/stats.mjs';

/**
 * The ladder as measured on the code before the route pipeline (commit eb809c1, where the service
 * token was signed inside the forwarding, so its `guard` rung is its `token` rung), kept so every
 * run shows its ratios next to the earlier ones. Written by hand from that run's bench/.out/peer.json.
 */
const BEFORE = join(ROOT, 'bench', 'ladder', 'before.json');

/** The rungs, bottom up; `signedIn`: each connection sends its own access token; `limited`: RateLimit headers expected. */
export const LADDER_RUNGS = [
  { key: 'bare', label: 'bare pass-through (Hono, one route)', signedIn: false, limited: false },
  { key: 'context', label: '+ request context and logs (id, trace, logger, CORS, security headers, body limit, problem+json)', signedIn: false, limited: false },
  { key: 'auth', label: '+ access-token check (a signed-in caller)', signedIn: true, limited: false },
  { key: 'limit', label: '+ rate limit', signedIn: true, limited: true },
  { key: 'guard', label: '+ breaker, bulkhead, retry, deadline (and header rewriting, canary, fallbacks)', signedIn: true, limited: true },
  { key: 'token', label: '+ service token', signedIn: true, limited: true },
  { key: 'metrics', label: '+ metrics', signedIn: true, limited: true },
  { key: 'whole', label: 'the whole gateway (signed-in)', signedIn: true, limited: true },
];

export function ladderSection(run) {
  const bare = run['ladder:bare'];
  const cpu = (r) => (r.cpuUsPerRequest > 0 ? fixed(r.cpuUsPerRequest, 0) : 'n/a');
  const row = (label, r) =>
    `| ${label} | ${Math.round(r.rps)} | **${ratio(r.rps, bare.rps)}** | ${fixed(r.p50, 2)} | ${ratio(r.p50, bare.p50)} | ${fixed(r.p99, 2)} | ${ratio(r.p99, bare.p99)} | ${fixed(r.p99 - bare.p99, 2)} | ${cpu(r)} | ${r.non2xx} |`;
  const rows = LADDER_RUNGS.map((rung) => row(rung.label, run[`ladder:${rung.key}`]));
  const { stratus, edge, passthrough, express } = run;
  const before = existsSync(BEFORE) ? JSON.parse(readFileSync(BEFORE, 'utf8')) : null;
  const beforeRows = before
    ? LADDER_RUNGS.map((rung) => {
        const then = before.rungs[rung.key];
        const now = run[`ladder:${rung.key}`];
        const cpuRatio = (r, base) => (r > 0 && base > 0 ? fixed(r / base, 2) : 'n/a');
        const nowCols = `${ratio(now.rps, bare.rps)} | ${fixed(now.p99 - bare.p99, 2)} | ${cpuRatio(now.cpuUsPerRequest, bare.cpuUsPerRequest)}`;
        if (!then) return `| ${rung.label} | n/a | n/a | n/a | ${nowCols} |`;
        return `| ${rung.label} | ${fixed(then.rpsRatio, 2)} | ${fixed(then.p99MinusBareMs, 2)} | ${cpuRatio(then.cpuUsPerRequest, before.rungs.bare.cpuUsPerRequest)} | ${nowCols} |`;
      })
    : [];
  const beforeTable = before
    ? `
Before and after, each as ratios within its own run: before, ${before.note}; now, this run.
(No \`guard\` rung before: that code signed the service token inside the forwarding.)

| rung | before: req/s ÷ bare | p99 − bare ms | CPU/req ÷ bare | now: req/s ÷ bare | p99 − bare ms | CPU/req ÷ bare |
| --- | --- | --- | --- | --- | --- | --- |
${beforeRows.join('\n')}

Before, the whole gateway anonymous ÷ the bare pass-through: req/s ${fixed(before.wholeAnonymousRpsRatio, 2)}; ÷ express ${fixed(before.wholeAnonymousExpressRatio, 2)}.
`
    : '';
  return `## Cost ladder

- Date: ${run.date}, the same run as the peer comparison above (${run.settings.rounds} rounds × ${run.settings.durationS} s per rung, ${run.settings.connections} connections, rungs visited in turn with the peers).
- Method: bench/ladder/ladder-worker.ts, in one workerd with the gateway's bindings and
  configuration (the peer comparison's ROUTE_POLICIES for the catalog route, \`LOG_LEVEL=warn\`,
  metrics flushed each second), builds the catalog route up from the gateway's own code, a rung per
  \`x-ladder-rung\` header, in front of the same \`ok\` upstream. From the access-token rung up,
  each connection is its own signed-in user (an ES256 token the gateway verifies against the JWKS
  the upstream stands in for), so the rate limit counts ${run.settings.connections} users. Ratios are to the bare rung
  of the same workerd; "CPU µs/req" is the user+system time the target's own process (its workerd,
  or express) spent during its load, divided by its requests (background work included: metrics
  flushes, breaker reports), which holds still better than req/s while other work on the machine
  comes and goes.

| rung | req/s | ÷ bare | p50 ms | ÷ bare | p99 ms | ÷ bare | p99 − bare ms | CPU µs/req | non-2xx |
| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |
${rows.join('\n')}

The whole gateway, anonymous (the peer comparison's stratus row, its own workerd) ÷ its bare
pass-through: req/s **${ratio(stratus.rps, passthrough.rps)}**, p99 ${fixed(stratus.p99, 2)} ms against ${fixed(passthrough.p99, 2)} ms (${fixed(stratus.p99 - passthrough.p99, 2)} ms more), CPU ${cpu(stratus)} against ${cpu(passthrough)} µs/req; ÷ express: req/s **${ratio(stratus.rps, express.rps)}**.
Without the local asset router (the peer comparison's edge row: the same code, no \`[assets]\`, as the bare pass-through and every rung here): req/s **${ratio(edge.rps, passthrough.rps)}**, p99 ${fixed(edge.p99, 2)} ms (${fixed(edge.p99 - passthrough.p99, 2)} ms more), CPU ${cpu(edge)} µs/req; ÷ express: req/s **${ratio(edge.rps, express.rps)}**.
The whole gateway, signed-in (ladder) ÷ the ladder's bare rung: req/s **${ratio(run['ladder:whole'].rps, bare.rps)}**.
${beforeTable}`;
}
