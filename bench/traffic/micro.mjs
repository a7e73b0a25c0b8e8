// Benchmark (a, micro): the rate limiter's pure decision, in Node, with nothing else in the way:
// ns per decision of shared/ratelimit's token bucket and sliding window, called directly and
// through limiterStep (what the RateLimiter Durable Object runs per request: policy check,
// fingerprint, the algorithm, the state wrapped). Every decision is an allowed one (a limit no run
// reaches), state threaded from call to call, the clock advancing 1 ms per decision.
import { importTypeScript } from '../lib/import-typescript.mjs';
import { median } from '../lib/stats.mjs';
import { HIGH_LIMIT } from './rate-limit.mjs';

const importSources = () => importTypeScript('bench/traffic/micro-entry.ts', 'bench-traffic');

const SLIDING = HIGH_LIMIT; // the policy (a) loads the gateway with
const BUCKET = { ...HIGH_LIMIT, algorithm: 'token-bucket' };

/** One loop function per variant, so V8 keeps separate type feedback for each call site. */
function variants({ limiterStep, slidingWindow, tokenBucket }) {
  let sink = 0;
  return {
    sink: () => sink,
    list: [
      {
        key: 'slidingWindow',
        label: '`slidingWindow(policy, state, now)`',
        run(calls, start) {
          let state;
          for (let i = 0; i < calls; i++) {
            const step = slidingWindow(SLIDING, state, start + i);
            state = step.state;
            sink += step.remaining;
          }
        },
      },
      {
        key: 'tokenBucket',
        label: '`tokenBucket(policy, state, now)`',
        run(calls, start) {
          let state;
          for (let i = 0; i < calls; i++) {
            const step = tokenBucket(BUCKET, state, start + i);
            state = step.state;
            sink += step.remaining;
          }
        },
      },
      {
        key: 'limiterSliding',
        label: '`limiterStep` (sliding window), as the Durable Object runs it',
        run(calls, start) {
          let state;
          for (let i = 0; i < calls; i++) {
            const step = limiterStep(SLIDING, state, start + i);
            state = step.state;
            sink += step.remaining;
          }
        },
      },
      {
        key: 'limiterBucket',
        label: '`limiterStep` (token bucket)',
        run(calls, start) {
          let state;
          for (let i = 0; i < calls; i++) {
            const step = limiterStep(BUCKET, state, start + i);
            state = step.state;
            sink += step.remaining;
          }
        },
      },
    ],
  };
}

export async function benchMicro({ calls, rounds }) {
  const sources = await importSources();
  const { list, sink } = variants(sources);
  const perRound = Object.fromEntries(list.map((v) => [v.key, []]));
  const start = Date.now();
  for (const variant of list) variant.run(calls, start); // warm-up, discarded
  for (let round = 0; round < rounds; round++) {
    for (let i = 0; i < list.length; i++) {
      const variant = list[(i + round) % list.length];
      const began = process.hrtime.bigint();
      variant.run(calls, start);
      perRound[variant.key].push(Number(process.hrtime.bigint() - began) / calls);
    }
  }
  if (!Number.isFinite(sink())) throw new Error('unreachable: keeps the results alive');
  return {
    calls,
    rounds,
    variants: list.map((v) => ({ key: v.key, label: v.label, nsPerDecision: median(perRound[v.key]), roundsNs: perRound[v.key] })),
  };
}
