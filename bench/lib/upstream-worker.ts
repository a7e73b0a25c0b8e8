/**
 * The benchmarks' upstream (bench/resilience, bench/traffic), bound as every service the gateway
 * names. Its `MODE` var says how it behaves, so every target uses one bundle:
 * - `ok`: answers 200 `ok`, after `DELAY_MS` (0: at once; a stand-in for a catalog that takes a
 *   realistic time, without D1's own variance). The answer is cacheable as the gateway's cache
 *   sees it (a 200 without Cache-Control, Set-Cookie or Vary), as the catalog's product answers are;
 * - `fail`: answers 503 to everything, which opens the route's circuit breaker;
 * - `hang`: answers nothing until the caller gives up (the gateway's deadline aborts the call)
 *   or HANG_MS passes. A pending timer keeps the request alive: a promise with no I/O or timer
 *   behind it is one workerd cancels as "will never generate a response", which would measure
 *   workerd's cancellation instead of the gateway's deadline.
 */
interface Bindings {
  MODE?: string;
  DELAY_MS?: string;
}

const HANG_MS = 60_000;

function hang(signal: AbortSignal): Promise<Response> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(new Response('late', { status: 200 })), HANG_MS);
    // Needs the `enable_request_signal` flag (upstream.wrangler.toml); without it the timer bounds the wait.
    signal.addEventListener(
      'abort',
      () => {
        clearTimeout(timer);
        resolve(new Response(null, { status: 499 }));
      },
      { once: true },
    );
  });
}

export default {
  async fetch(request, env): Promise<Response> {
    if (env.MODE === 'fail') return new Response('failing on purpose', { status: 503 });
    if (env.MODE === 'hang') return hang(request.signal);
    const delayMs = Number(env.DELAY_MS ?? 0);
    if (delayMs > 0) await new Promise((resolve) => setTimeout(resolve, delayMs));
    return new Response('ok', { headers: { 'content-type': 'text/plain; charset=utf-8' } });
  },
} satisfies ExportedHandler<Bindings>;
