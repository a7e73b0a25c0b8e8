/**
 * Benchmark ceiling (d): a worker that answers `ok` and nothing else. No router, no bindings:
 * what workerd and the load generator can do on this machine, which no real target can beat.
 */
export default {
  fetch(): Response {
    return new Response('ok');
  },
} satisfies ExportedHandler;
