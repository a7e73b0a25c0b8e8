// Loads several targets the same way, rounds interleaved: a warm-up each (discarded), then
// `rounds` rounds visiting every target in turn, the order rotated each round so no target is
// always first (or always right after the same one). req/s is the median round; p50/p99 are over
// every counted response of all rounds.
import { latencySummary, median } from '../lib/stats.mjs';
import { load } from '../lib/load.mjs';

/**
 * `runs`: [{ key, target, path, counts(status, xCache) → bool }]; a response is timed when
 * `counts` says so (e.g. a 200 that was a cache HIT), and every status and x-cache is tallied.
 */
export async function interleaved(runs, { rounds, durationS, warmupS, connections, label }) {
  const state = runs.map((run) => ({ ...run, rounds: [], latencies: [], requests: 0, warmupRequests: 0, errors: 0, uncounted: 0, statuses: {}, xCache: {} }));
  for (const run of state) run.warmupRequests = (await load({ url: run.target.url(run.path), connections, durationS: warmupS })).requests;
  for (let round = 0; round < rounds; round++) {
    const order = state.map((_, i) => state[(i + round) % state.length]);
    for (const run of order) {
      const result = await load({
        url: run.target.url(run.path),
        connections,
        durationS,
        onResponse: (status, ms, xCache) => (run.counts(status, xCache) ? run.latencies.push(ms) : run.uncounted++),
      });
      run.rounds.push(result.rps);
      run.requests += result.requests;
      run.errors += result.errors + result.timeouts;
      for (const [k, v] of Object.entries(result.statuses)) run.statuses[k] = (run.statuses[k] ?? 0) + v;
      for (const [k, v] of Object.entries(result.xCache)) run.xCache[k] = (run.xCache[k] ?? 0) + v;
    }
    console.log(`  ${label} round ${round + 1}/${rounds}: ${state.map((r) => `${r.key} ${Math.round(r.rounds.at(-1))}`).join('  ')} req/s`);
  }
  return Object.fromEntries(
    state.map((run) => [
      run.key,
      {
        ...latencySummary(run.latencies),
        rps: median(run.rounds),
        roundsRps: run.rounds,
        requests: run.requests,
        warmupRequests: run.warmupRequests,
        uncounted: run.uncounted,
        errors: run.errors,
        statuses: run.statuses,
        xCache: run.xCache,
        logLines: run.target.logs.lines,
      },
    ]),
  );
}
