// Benchmark (c): the breaker's own cost per call, in Node, with nothing else in the way. Our
// breaker policy (shared/resilience/breaker-policy.ts, over a BreakerClient and the in-memory
// authority, as a single-process gateway would run it) against opossum's `fire()`, both closed
// and wrapping the same trivial async function, and a bare `await fn()` as the floor.
import CircuitBreaker from 'opossum';
import { importTypeScript } from '../lib/import-typescript.mjs';
import { median } from '../lib/stats.mjs';

const importSources = () => importTypeScript('bench/resilience/micro-entry.ts', 'bench-resilience');

/** The wrapped work: resolves at once, so what is timed is the wrapper around it. */
const work = async () => 1;

/**
 * Each variant is its own loop function (a distinct function literal), so V8 keeps separate type
 * feedback for each call site instead of one megamorphic loop shared by all variants.
 */
function variants({ BreakerClient, circuitBreaker, DEFAULT_BREAKER_OPTIONS, MemoryBreakerAuthority }) {
  // One authority for each client's whole life: the gateway's authority() likewise returns a stub
  // of the same Durable Object each time. Reports are sent by `flush()` after each timed loop
  // (what the report interval does in a gateway): a timed loop never yields to timers, so the
  // client's own timer would only fire after it, and the per-call work measured is the same.
  const breaker = (options = {}) => {
    const authority = new MemoryBreakerAuthority();
    const client = new BreakerClient({
      breaker: DEFAULT_BREAKER_OPTIONS,
      authority: () => authority,
      reportIntervalMs: 1_000,
      sleep: () => new Promise(() => undefined),
      ...options,
    });
    return { client, authority, policy: circuitBreaker(client) };
  };
  const ours = breaker();
  // Inside the gateway the policy runs under wrap(), which hands it the caller's context (signal,
  // attempt, defer); called on its own it makes one, with a fresh AbortController per call.
  const context = { signal: new AbortController().signal, attempt: 1, defer: (promise) => void promise.catch(() => undefined) };
  const opossum = new CircuitBreaker(work); // defaults: a 10 s timeout (one timer per call), stats, events
  const opossumNoTimeout = new CircuitBreaker(work, { timeout: false });
  return {
    list: [
      { key: 'bare', name: 'bare `await fn()`', loop: async (n) => { for (let i = 0; i < n; i++) await work(); } },
      { key: 'ours', name: 'ours: `circuitBreaker(client).execute(fn)`', client: ours.client, loop: async (n) => { for (let i = 0; i < n; i++) await ours.policy.execute(work); } },
      { key: 'oursCtx', name: 'ours, caller context given (as under the gateway\'s `wrap`)', client: ours.client, loop: async (n) => { for (let i = 0; i < n; i++) await ours.policy.execute(work, context); } },
      { key: 'opossum', name: 'opossum `new CircuitBreaker(fn).fire()` (defaults)', loop: async (n) => { for (let i = 0; i < n; i++) await opossum.fire(); } },
      { key: 'opossumNoTimeout', name: 'opossum, `{ timeout: false }`', loop: async (n) => { for (let i = 0; i < n; i++) await opossumNoTimeout.fire(); } },
    ],
    check: () => ({ ours: ours.client.cachedView.state, reports: ours.authority.calls.report, opossum: opossum.opened ? 'open' : 'closed' }),
    shutdown: () => {
      opossum.shutdown();
      opossumNoTimeout.shutdown();
    },
  };
}

/** Lets timers run between timed loops (opossum rotates its stats buckets on one), never inside one. */
const turn = () => new Promise((resolve) => setTimeout(resolve, 20));

/**
 * Times one loop of `calls` calls. Afterwards (untimed) the variant's breaker reports what it
 * holds, as its report interval would: only then, so flush() never runs with nothing pending.
 */
async function nsPerCall(variant, calls) {
  const started = process.hrtime.bigint();
  await variant.loop(calls);
  const ns = Number(process.hrtime.bigint() - started) / calls;
  await variant.client?.flush();
  return ns;
}

export async function benchMicro({ calls, rounds }) {
  const sources = await importSources();
  const { list, check, shutdown } = variants(sources);
  const samples = Object.fromEntries(list.map((v) => [v.key, []]));
  try {
    for (const variant of list) await nsPerCall(variant, calls); // warm-up: JIT, and each breaker's state settles
    for (let round = 1; round <= rounds; round++) {
      // Rotate who goes first, so GC debt or a busy moment does not always land on one variant.
      const order = list.map((_, i) => list[(i + round) % list.length]);
      for (const variant of order) {
        await turn();
        samples[variant.key].push(await nsPerCall(variant, calls));
      }
      console.log(`  (c) round ${round}/${rounds}: ${list.map((v) => `${v.key} ${samples[v.key].at(-1).toFixed(0)}`).join('  ')} ns/call`);
    }
    const state = check();
    if (state.ours !== 'closed' || state.opossum !== 'closed') throw new Error(`a breaker left the closed state: ${JSON.stringify(state)}`);
    return {
      calls,
      rounds,
      opossumVersion: (await import('opossum/package.json', { with: { type: 'json' } })).default.version,
      reports: state.reports,
      variants: list.map((v) => ({ key: v.key, name: v.name, nsPerCall: median(samples[v.key]), rounds: samples[v.key] })),
    };
  } finally {
    shutdown();
  }
}
