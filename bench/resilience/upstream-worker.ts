/**
 * The resilience benchmarks' upstream (bench/resilience), bound as the gateway's CATALOG and
 * PAYMENTS. Its `MODE` var says how it behaves, so every target uses one bundle:
 * - `ok`: answers 200 `ok` at once, the cheapest upstream there is, so the gateway's own work
 *   dominates what is measured;
 * - `fail`: answers 503 to everything, which opens the route's circuit breaker;
 * - `hang`: answers nothing until the caller gives up (the gateway's deadline aborts the call)
 *   or HANG_MS passes. A pending timer keeps the request alive: a promise with no I/O or timer
 *   behind it is one workerd cancels as "will never generate a response", which would measure
 *   workerd's cancellation instead of the gateway's deadline.
 */
interface Bindings {
  MODE?: string;
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
  fetch(request, env): Response | Promise<Response> {
    if (env.MODE === 'fail') return new Response('failing on purpose', { status: 503 });
    if (env.MODE === 'hang') return hang(request.signal);
    return new Response('ok');
  },
} satisfies ExportedHandler<Bindings>;
