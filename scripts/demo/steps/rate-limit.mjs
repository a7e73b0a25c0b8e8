// [3] Anonymous reads of the catalog until the gateway refuses one: 100 per 10 s per caller.
import { expectThat } from '../http-client.mjs';

const PATH = '/api/catalog/products/prod_01';
// The catalog's limit is 100 per 10 s; a few more than that, in case earlier reads left room.
const MAX_REQUESTS = 130;
const CONCURRENCY = 8;

export const rateLimit = {
  title: 'Read the catalog faster than allowed',
  pattern: 'rate limiting per caller (sliding window, a Durable Object per caller), IETF RateLimit headers',
  async run({ call, show, note }) {
    const first = await call('GET', PATH);
    show('GET', PATH, first, ['ratelimit-policy', 'ratelimit'], '');
    expectThat(first.headers.get('ratelimit-policy') !== null, 'the catalog answered without a RateLimit-Policy header');
    let sent = 1;
    let refused = first.status === 429 ? first : null;
    let lastAllowed = first.status === 429 ? null : first;
    // A few at a time until one is refused (each stops as soon as any sees a 429).
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (!refused && sent < MAX_REQUESTS) {
          sent++;
          const answer = await call('GET', PATH);
          if (answer.status === 429) refused ??= answer;
          else lastAllowed = answer;
        }
      }),
    );
    note(`… ${sent} GET ${PATH} in all, ${CONCURRENCY} at a time, anonymous (one caller)`);
    if (lastAllowed) show('GET', PATH, lastAllowed, ['ratelimit'], '');
    expectThat(refused, `${sent} reads within the window were all allowed; expected a 429 after 100`);
    show('GET', PATH, refused, ['retry-after', 'ratelimit'], refused.body?.type ?? refused.body);
    expectThat(refused.headers.get('retry-after') !== null, 'the 429 came without Retry-After');
    expectThat((refused.headers.get('content-type') ?? '').includes('application/problem+json'), 'the 429 is not application/problem+json');
    return `refused after about ${sent} reads with 429 + Retry-After: ${refused.headers.get('retry-after')} s, before reaching the catalog; signed-in callers each have their own allowance`;
  },
};
