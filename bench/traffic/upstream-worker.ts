/**
 * The traffic benchmarks' upstream (bench/traffic), bound as the gateway's services. It answers
 * 200 `ok` after DELAY_MS milliseconds (0: at once): a stand-in for a catalog that takes a
 * realistic time (a D1 query and JSON) without putting D1's own variance into the numbers. The
 * answer is cacheable as the gateway's cache sees it (a 200 with no Cache-Control, Set-Cookie or
 * Vary), as the real catalog's product answers are.
 */
interface Bindings {
  DELAY_MS?: string;
}

export default {
  async fetch(_request, env): Promise<Response> {
    const delayMs = Number(env.DELAY_MS ?? 0);
    if (delayMs > 0) await new Promise((resolve) => setTimeout(resolve, delayMs));
    return new Response('ok', { headers: { 'content-type': 'text/plain; charset=utf-8' } });
  },
} satisfies ExportedHandler<Bindings>;
