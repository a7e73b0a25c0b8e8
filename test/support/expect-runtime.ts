// Setup file of vitest.runtimes.config.mts: each test file must run on the runtime vitest was
// started on (STRATUS_TEST_RUNTIME, set by the config), and that must be Bun or Deno. vitest's
// workers are child processes, so this is checked in each of them, not assumed.
const expected = process.env.STRATUS_TEST_RUNTIME;
const actual = 'Bun' in globalThis ? 'bun' : 'Deno' in globalThis ? 'deno' : 'node';
if (expected !== 'bun' && expected !== 'deno') {
  throw new Error(`vitest.runtimes.config.mts is for Bun and Deno (npm run test:bun, npm run test:deno); vitest runs on ${expected ?? 'an unknown runtime'}`);
}
if (actual !== expected) throw new Error(`vitest runs on ${expected}, but this test file on ${actual}`);
