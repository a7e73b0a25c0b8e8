// One bounded autocannon run against one URL, on 127.0.0.1. Kept apart from the benchmarks so
// they all load targets the same way bench/gateway does: keep-alive connections, a fixed
// duration, and latencies taken from each response's exact time.
import autocannon from 'autocannon';

/**
 * Loads `url` for `durationS` over `connections`; resolves to autocannon's result plus what we
 * count ourselves. `onResponse(status, ms)` sees every response, whatever its status: autocannon's
 * own histogram has 1 ms resolution (too coarse when p50 is a millisecond) and drops nothing by
 * status, but the benchmarks need to split latencies by status and count statuses exactly.
 */
export async function load({ url, connections, durationS, headers, onResponse }) {
  const statuses = {};
  const instance = autocannon({ url, connections, duration: durationS, headers, timeout: 10 });
  instance.on('response', (_client, status, _bytes, ms) => {
    statuses[status] = (statuses[status] ?? 0) + 1;
    onResponse?.(status, ms);
  });
  const result = await instance;
  return {
    requests: result.requests.total,
    rps: result.requests.total / result.duration,
    durationS: result.duration,
    errors: result.errors, // connection errors and timeouts, which never reach `response`
    timeouts: result.timeouts,
    statuses,
    raw: result,
  };
}
