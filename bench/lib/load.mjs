// One bounded autocannon run against one URL, on 127.0.0.1, as every benchmark loads its targets:
// keep-alive connections, a fixed duration, latencies from each response's exact time; each
// connection its own CF-Connecting-IP (so a rate-limited route sees that many callers, not one
// shared `ip:unknown` bucket), and the `x-cache` of every response counted.
import autocannon from 'autocannon';

/** 10.77.0.<n+1> for connection n: a distinct, valid address per connection. */
const addressOf = (n) => `10.77.0.${n + 1}`;

/**
 * Loads `url` for `durationS` over `connections`, each sending `headers` and `headersFor(n)`. `onResponse(status, ms, xCache)` sees every
 * response; latencies come from each response's exact time (autocannon's histogram has 1 ms
 * resolution). Resolves to the request count, req/s, errors and the counts of statuses and
 * x-cache values.
 */
export async function load({ url, connections, durationS, headers = {}, headersFor, onResponse }) {
  const statuses = {};
  const xCache = {};
  const lastXCache = new Map(); // client → x-cache of the response being completed
  let next = 0;
  const instance = autocannon({
    url,
    connections,
    duration: durationS,
    timeout: 10,
    setupClient(client) {
      // `headersFor(n)`: headers of connection n alone (say, each its own signed-in caller).
      const n = next++ % connections;
      client.setHeaders({ ...headers, ...headersFor?.(n), 'cf-connecting-ip': addressOf(n) });
      client.on('headers', ({ headers }) => {
        let value = '(none)';
        for (let i = 0; i < headers.length; i += 2) if (headers[i].toLowerCase() === 'x-cache') value = headers[i + 1];
        lastXCache.set(client, value);
      });
    },
  });
  instance.on('response', (client, status, _bytes, ms) => {
    const cache = lastXCache.get(client) ?? '(none)';
    statuses[status] = (statuses[status] ?? 0) + 1;
    xCache[cache] = (xCache[cache] ?? 0) + 1;
    onResponse?.(status, ms, cache);
  });
  const result = await instance;
  return {
    requests: result.requests.total,
    rps: result.requests.total / result.duration,
    durationS: result.duration,
    errors: result.errors, // connection errors and timeouts, which never reach `response`
    timeouts: result.timeouts,
    statuses,
    xCache,
  };
}
