// [3] Anonymous reads of the catalog until the gateway refuses one: 100 per 10 s per caller.
import { expectThat } from '../http-client.mjs';

const PATH = '/api/catalog/products/prod_01';
// The catalog's policy as the README states it (workers/gateway/routes.ts): 100 reads per 10 s.
const DOCUMENTED = { limit: 100, windowSeconds: 10 };
// Past the limit, a few more in case the window slid meanwhile; then the step fails.
const SLACK = 30;
const CONCURRENCY = 8;

/** `"catalog";q=100;w=10` → { limit: 100, windowSeconds: 10 }, or null. */
const policyOf = (header) => {
  const match = /;q=(\d+);w=(\d+)/.exec(header ?? '');
  return match ? { limit: Number(match[1]), windowSeconds: Number(match[2]) } : null;
};
/** `"catalog";r=99;t=10` → 99, or null. */
const remainingOf = (header) => {
  const match = /;r=(\d+)/.exec(header ?? '');
  return match ? Number(match[1]) : null;
};

export const rateLimit = {
  title: 'Read the catalog faster than allowed',
  pattern: 'rate limiting per caller (sliding window, a Durable Object per caller), IETF RateLimit headers',
  async run({ call, show, note }) {
    const first = await call('GET', PATH);
    show('GET', PATH, first, ['ratelimit-policy', 'ratelimit'], '');
    const policy = policyOf(first.headers.get('ratelimit-policy'));
    expectThat(policy, `the catalog answered RateLimit-Policy ${JSON.stringify(first.headers.get('ratelimit-policy'))}, not "catalog";q=<limit>;w=<seconds>`);
    expectThat(
      policy.limit === DOCUMENTED.limit && policy.windowSeconds === DOCUMENTED.windowSeconds,
      `the catalog's policy is ${policy.limit} per ${policy.windowSeconds} s, not the ${DOCUMENTED.limit} per ${DOCUMENTED.windowSeconds} s the README states`,
    );
    // What the first answer said was left: at least that many more must be allowed.
    const promised = first.status === 429 ? 0 : remainingOf(first.headers.get('ratelimit'));
    expectThat(promised !== null, `the first answer's RateLimit header ${JSON.stringify(first.headers.get('ratelimit'))} says nothing remaining`);
    const maxRequests = policy.limit + SLACK;
    let sent = 1;
    let allowed = 0;
    let refused = first.status === 429 ? first : null;
    let lastAllowed = first.status === 429 ? null : first;
    // A few at a time until one is refused (each stops as soon as any sees a 429).
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (!refused && sent < maxRequests) {
          sent++;
          const answer = await call('GET', PATH);
          if (answer.status === 429) refused ??= answer;
          else {
            allowed++;
            lastAllowed = answer;
          }
        }
      }),
    );
    note(`… ${sent} GET ${PATH} in all, ${CONCURRENCY} at a time, anonymous (one caller): ${allowed} allowed after the first, which said r=${promised}`);
    if (lastAllowed) show('GET', PATH, lastAllowed, ['ratelimit'], '');
    expectThat(refused, `${sent} reads within the window were all allowed; expected a 429 after ${policy.limit}`);
    expectThat(allowed >= promised, `only ${allowed} reads were allowed after the first answer said ${promised} remained`);
    show('GET', PATH, refused, ['retry-after', 'ratelimit'], refused.body?.type ?? refused.body);
    expectThat(refused.headers.get('retry-after') !== null, 'the 429 came without Retry-After');
    expectThat((refused.headers.get('content-type') ?? '').includes('application/problem+json'), 'the 429 is not application/problem+json');
    return `${policy.limit} per ${policy.windowSeconds} s: ${allowed} more allowed after the first (which promised ${promised}), then 429 + Retry-After: ${refused.headers.get('retry-after')} s. The gateway decides before it forwards, so a refused read costs the catalog nothing; signed-in callers each have their own allowance`;
  },
};
