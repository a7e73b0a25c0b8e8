// Benchmark (b): a catalog GET answered from the response cache vs the same GET going upstream.
// Three gateways identical but for CACHE_ENABLED and how long the upstream takes:
//   (b1) cache on,  upstream answers after DELAY_MS: after the warm-up's first MISS every request
//        is a fresh HIT (the catalog's ttl is 30 s; see the x-cache counts for STALEs);
//   (b2) cache off, the same slow upstream: every request waits for it (x-cache BYPASS);
//   (b3) cache off, an upstream answering at once: the gateway's whole path with nothing to wait on.
// Rate limiting is off in all three (`"rateLimit": false`): (a) measures it; here it would only
// add the same cost to every target.
import { interleaved } from './rounds.mjs';
import { metrics, request, startGateway } from '../lib/gateway-target.mjs';

const PATH = '/api/catalog/products/prod_01';
const CONNECTIONS = 10;
export const DELAY_MS = 20;

export async function benchCache({ rounds, durationS, warmupS }) {
  const policies = { catalog: { rateLimit: false } };
  const hit = await startGateway({ name: 'cache HIT', upstream: { DELAY_MS: String(DELAY_MS) }, vars: { CACHE_ENABLED: 'true' }, routePolicies: policies });
  const slow = await startGateway({ name: 'cache off, slow upstream', upstream: { DELAY_MS: String(DELAY_MS) }, vars: { CACHE_ENABLED: 'false' }, routePolicies: policies });
  const fast = await startGateway({ name: 'cache off, instant upstream', upstream: { DELAY_MS: '0' }, vars: { CACHE_ENABLED: 'false' }, routePolicies: policies });
  const first = await request(hit.url(PATH));
  const second = await request(hit.url(PATH));
  if (first.status !== 200 || first.headers.get('x-cache') !== 'MISS' || second.headers.get('x-cache') !== 'HIT') {
    throw new Error(`cache on: ${first.status} x-cache ${first.headers.get('x-cache')}, then ${second.status} x-cache ${second.headers.get('x-cache')}`);
  }
  for (const target of [slow, fast]) {
    const answer = await request(target.url(PATH));
    if (answer.status !== 200 || answer.headers.get('x-cache') !== 'BYPASS') throw new Error(`${target.name}: ${answer.status} x-cache ${answer.headers.get('x-cache')}`);
  }

  const results = await interleaved(
    [
      // Only HITs are timed for (b1); any other x-cache value is counted and reported.
      { key: 'hit', target: hit, path: PATH, counts: (status, xCache) => status === 200 && xCache === 'HIT' },
      { key: 'slow', target: slow, path: PATH, counts: (status) => status === 200 },
      { key: 'fast', target: fast, path: PATH, counts: (status) => status === 200 },
    ],
    { rounds, durationS, warmupS, connections: CONNECTIONS, label: '(b)' },
  );
  const cacheCounts = await metrics(hit, 'cache_requests_total');
  return { path: PATH, connections: CONNECTIONS, delayMs: DELAY_MS, ...results, cacheCounts };
}
