// Benchmark (b): what the circuit breaker costs a healthy route. Two gateways, identical but for
// the catalog route's breaker: on (the route table's own settings) or off (`"breaker": false`).
// Both call the same `ok` upstream, so the gateway's own work is most of what is measured; the
// breaker stays closed throughout, its outcomes batched to its Durable Object once a second (the
// deployed BREAKER_REPORT_INTERVAL_MS). Same load on both, rounds interleaved, order alternated.
import { load } from '../lib/load.mjs';
import { latencySummary, median } from '../lib/stats.mjs';
import { breakerState, request, startGateway } from '../lib/gateway-target.mjs';

const PATH = '/api/catalog/products/prod_01';
const CONNECTIONS = 10; // as bench/gateway: keeps 2 cores busy without measuring queueing alone

export async function benchHotPath({ rounds, durationS, warmupS }) {
  // Rate limiting off in both: it is measured apart (bench/traffic), and would only add its cost.
  const withBreaker = await startGateway({ name: 'with breaker', upstream: { MODE: 'ok' }, routePolicies: { catalog: { rateLimit: false } } });
  const without = await startGateway({ name: 'without breaker', upstream: { MODE: 'ok' }, routePolicies: { catalog: { breaker: false, rateLimit: false } } });
  for (const target of [withBreaker, without]) {
    const answer = await request(target.url(PATH));
    if (answer.status !== 200 || answer.body !== 'ok') throw new Error(`${target.name}: GET ${PATH} answered ${answer.status}: ${answer.body.slice(0, 300)}`);
  }
  const breakers = await breakerState(without);
  if ('catalog' in breakers) throw new Error(`"breaker": false did not remove the catalog breaker: ${JSON.stringify(breakers.catalog)}`);

  const runs = [
    { key: 'with', target: withBreaker, rounds: [], latencies: [], requests: 0, non2xx: 0, errors: 0, answeredAt: [] },
    { key: 'without', target: without, rounds: [], latencies: [], requests: 0, non2xx: 0, errors: 0 },
  ];
  // Warm-up answers count for the window check below (they reach the breaker too), not for timing.
  const warmedAt = (run) => (status) => status === 200 && run.answeredAt?.push(Date.now());
  for (const run of runs) await load({ url: run.target.url(PATH), connections: CONNECTIONS, durationS: warmupS, onResponse: warmedAt(run) });
  for (let round = 1; round <= rounds; round++) {
    const order = round % 2 ? runs : [...runs].reverse();
    for (const run of order) {
      const result = await load({
        url: run.target.url(PATH),
        connections: CONNECTIONS,
        durationS,
        onResponse: (status, ms) => {
          if (status !== 200) return void run.non2xx++;
          run.latencies.push(ms);
          run.answeredAt?.push(Date.now());
        },
      });
      run.rounds.push(result.rps);
      run.requests += result.requests;
      run.errors += result.errors;
    }
    console.log(`  (b) round ${round}/${rounds}: ${runs.map((r) => `${r.key} ${Math.round(r.rounds.at(-1))}`).join('  ')} req/s`);
  }

  // A check on the breaker, not part of the timing: once the last report is in (one report
  // interval, plus margin), the Durable Object's window should hold every call answered within
  // it. Far fewer means outcomes were lost on the way, and the failure rate it judges is skewed.
  await new Promise((resolve) => setTimeout(resolve, 2_500));
  const snapshotAt = Date.now();
  const state = (await breakerState(withBreaker)).catalog;
  const windowMs = 30_000; // the catalog route's slidingWindowMs (the default)
  const answeredInWindow = runs[0].answeredAt.filter((at) => at >= snapshotAt - windowMs).length;

  const results = Object.fromEntries(
    runs.map((run) => [run.key, { ...latencySummary(run.latencies), rps: median(run.rounds), roundsRps: run.rounds, requests: run.requests, non2xx: run.non2xx, errors: run.errors }]),
  );
  return { connections: CONNECTIONS, path: PATH, breaker: { state: state?.state, windowCalls: state?.calls, answeredInWindow, windowMs }, ...results };
}
