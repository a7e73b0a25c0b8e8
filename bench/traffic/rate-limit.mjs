// Benchmark (a): what the rate limit costs a request that it allows. Two gateways identical but
// for the catalog route's rate limit: the route's own algorithm (sliding window) with a limit no
// run can reach, decided by the RateLimiter Durable Object per (route, caller), or none
// (`"rateLimit": false` in ROUTE_POLICIES). Both: cache off (every request meets the limiter and
// the upstream), the same instant `ok` upstream, 10 connections each with its own CF-Connecting-IP.
import { interleaved } from './rounds.mjs';
import { metrics, request, startGateway } from '../lib/gateway-target.mjs';

const PATH = '/api/catalog/products/prod_01';
const CONNECTIONS = 10;
export const HIGH_LIMIT = { algorithm: 'sliding-window', limit: 1_000_000_000, windowMs: 10_000 };

export async function benchRateLimit({ rounds, durationS, warmupS }) {
  const withLimit = await startGateway({ name: 'rate limit on', vars: { CACHE_ENABLED: 'false' }, routePolicies: { catalog: { rateLimit: HIGH_LIMIT } } });
  const without = await startGateway({ name: 'rate limit off', vars: { CACHE_ENABLED: 'false' }, routePolicies: { catalog: { rateLimit: false } } });
  const on = await request(withLimit.url(PATH), { headers: { 'cf-connecting-ip': '10.77.1.1' } });
  const off = await request(without.url(PATH), { headers: { 'cf-connecting-ip': '10.77.1.1' } });
  if (on.status !== 200 || on.headers.get('ratelimit-policy') !== `"catalog";q=${HIGH_LIMIT.limit};w=10`) {
    throw new Error(`rate limit on: ${on.status}, RateLimit-Policy ${on.headers.get('ratelimit-policy')}`);
  }
  if (off.status !== 200 || off.headers.get('ratelimit-policy') !== null) throw new Error(`rate limit off: ${off.status}, RateLimit-Policy ${off.headers.get('ratelimit-policy')}`);

  const results = await interleaved(
    [
      { key: 'on', target: withLimit, path: PATH, counts: (status) => status === 200 },
      { key: 'off', target: without, path: PATH, counts: (status) => status === 200 },
    ],
    { rounds, durationS, warmupS, connections: CONNECTIONS, label: '(a)' },
  );
  // Not part of the timing: the decisions the gateway counted (flushed before the scrape).
  const decisions = await metrics(withLimit, 'rate_limit_decisions_total');
  const decisionsOff = await metrics(without, 'rate_limit_decisions_total');
  return { path: PATH, connections: CONNECTIONS, policy: HIGH_LIMIT, ...results, decisions, decisionsOff };
}
