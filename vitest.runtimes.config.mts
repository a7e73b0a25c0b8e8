import { defineConfig } from 'vitest/config';

/** The runtime vitest itself was started on: the one its workers must run the tests on. */
const runtime = 'Bun' in globalThis ? 'bun' : 'Deno' in globalThis ? 'deno' : 'node';

/**
 * shared/'s unit tests (the `shared` project of vitest.config.mts, which runs them in Node) run
 * again with vitest itself running on Bun (`npm run test:bun`) and on Deno (`npm run test:deno`),
 * both part of `npm test`: the same files, so "shared/ is platform-free" is checked, not claimed.
 * test/support/expect-runtime.ts fails the run if a test file runs anywhere else, or on Node.
 */
export default defineConfig({
  test: {
    include: ['test/shared/**/*.test.ts'],
    // Not the files that open a real D1 through Miniflare (test/shared/support/miniflare-d1.ts):
    // there workerd is the test's instrument, reached through Miniflare's synchronous proxy, and on
    // Deno that proxy now and then pairs an answer with the wrong call ("message?.id === id" inside
    // miniflare's fetch-sync), failing a correct test. Their code is D1 code, which runs on workerd
    // only; the `shared` project runs these files in Node, and the workerd projects run that code.
    exclude: [
      'test/shared/adapters/cloudflare/outbox-table.test.ts',
      'test/shared/adapters/cloudflare/outbox-relay.test.ts',
      'test/shared/event-store/d1-event-store.test.ts',
      'test/shared/middleware/delivery-handler.test.ts',
    ],
    environment: 'node',
    env: { STRATUS_TEST_RUNTIME: runtime },
    setupFiles: ['test/support/expect-runtime.ts'],
    server: {
      deps: {
        // On Bun, zod loaded as an external module by vitest's module runner comes back without
        // its `z` export (every schema module then fails at `z.object`); transformed by Vite like
        // our own code, it loads. Harmless on Deno and Node.
        inline: ['zod'],
      },
    },
  },
});
