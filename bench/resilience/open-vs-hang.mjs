// Benchmark (a): what a caller waits for when its upstream is down, with the breaker open versus
// without one. Two gateways, the same route and the same deadline (timeoutMs 1000, retry off):
// - open: the upstream answers 503 to everything; a few calls open the breaker (minimumCalls 5)
//   and a 10-minute openDurationMs keeps it open, so every measured call is refused in the
//   isolate, without a call to the upstream or to the breaker's Durable Object;
// - hang: the upstream never answers and the route has no breaker (`"breaker": false`), so every
//   call waits out the deadline, as every call does before a breaker opens.
// Rounds alternate between the two. The hanging target is kept small (few connections, a few
// seconds): each of its connections completes one request per deadline.
import { load } from '../lib/load.mjs';
import { latencySummary, median } from '../lib/stats.mjs';
import { breakerState, request, startGateway } from '../lib/gateway-target.mjs';

export const TIMEOUT_MS = 1000;
const PATH = '/api/catalog/products/prod_01';
const CONNECTIONS = 4; // both targets alike; the hanging one only ever holds 4 calls open
const OPEN_DURATION_MS = 600_000; // stays open for the whole run, whatever its length

// Rate limiting off: a refused request would answer as fast as an open breaker and hide it.
const POLICIES = {
  open: { catalog: { timeoutMs: TIMEOUT_MS, retry: false, rateLimit: false, breaker: { openDurationMs: OPEN_DURATION_MS, minimumCalls: 5 } } },
  hang: { catalog: { timeoutMs: TIMEOUT_MS, retry: false, rateLimit: false, breaker: false } },
};

/** The answer a client gets, in short: what the report says the gateway answers with. */
function describe(answer) {
  const type = answer.headers.get('content-type')?.includes('problem+json') ? answer.json().type : undefined;
  return { status: answer.status, contentType: answer.headers.get('content-type'), type, fallback: answer.headers.get('x-fallback') };
}

/** Fails the open target until the gateway refuses with circuit-open; returns the calls it took. */
async function openBreaker(target) {
  for (let calls = 1; calls <= 50; calls++) {
    const answer = await request(target.url(PATH));
    if (answer.status === 503 && answer.body.includes('circuit-open')) {
      const state = await breakerState(target);
      if (state.catalog?.state !== 'open') throw new Error(`refused as circuit-open, but /_ops/breakers says ${JSON.stringify(state.catalog)}`);
      return calls;
    }
  }
  throw new Error('the breaker did not open within 50 failing calls');
}

export async function benchOpenVsHang({ rounds, durationS, warmupS }) {
  const open = await startGateway({ name: 'open', upstream: { MODE: 'fail' }, routePolicies: POLICIES.open });
  const hang = await startGateway({ name: 'hang', upstream: { MODE: 'hang' }, routePolicies: POLICIES.hang });
  const callsToOpen = await openBreaker(open);
  const answers = { open: describe(await request(open.url(PATH))), hang: describe(await request(hang.url(PATH))) };
  if (answers.hang.status !== 504) throw new Error(`the hanging target answered ${answers.hang.status}, expected the deadline's 504`);

  const runs = [
    { key: 'open', target: open, rounds: [], latencies: [], requests: 0, statuses: {}, errors: 0 },
    { key: 'hang', target: hang, rounds: [], latencies: [], requests: 0, statuses: {}, errors: 0 },
  ];
  const url = (run) => run.target.url(PATH);
  // The refusal path is JIT-compiled before it is measured; the hanging one costs 1 s a call
  // whatever the JIT does, so it needs no warm-up.
  await load({ url: url(runs[0]), connections: CONNECTIONS, durationS: warmupS });
  for (let round = 1; round <= rounds; round++) {
    // Alternate who goes first, so a drift in the machine's load does not favour one target.
    const order = round % 2 ? runs : [...runs].reverse();
    for (const run of order) {
      const result = await load({ url: url(run), connections: CONNECTIONS, durationS, onResponse: (_status, ms) => run.latencies.push(ms) });
      run.rounds.push(result.rps);
      run.requests += result.requests;
      run.errors += result.errors;
      for (const [status, n] of Object.entries(result.statuses)) run.statuses[status] = (run.statuses[status] ?? 0) + n;
    }
    console.log(`  (a) round ${round}/${rounds}: ${runs.map((r) => `${r.key} ${r.rounds.at(-1).toFixed(1)} req/s`).join('  ')}`);
  }
  // Still open at the end: every measured call was a refusal, none a probe.
  const stateAfter = (await breakerState(open)).catalog?.state;
  const results = Object.fromEntries(
    runs.map((run) => [run.key, { ...latencySummary(run.latencies), rps: median(run.rounds), requests: run.requests, statuses: run.statuses, errors: run.errors }]),
  );
  return { connections: CONNECTIONS, timeoutMs: TIMEOUT_MS, path: PATH, policies: POLICIES, callsToOpen, answers, stateAfter, logLines: { open: open.logs.lines, hang: hang.logs.lines }, ...results };
}
