// [6] Chaos on the catalog: every call fails, the gateway's breaker for it opens and refuses at
// once; chaos off, after the open period the breaker lets probes through and closes again.
import { expectThat, pollUntil } from '../http-client.mjs';

const SERVICE = 'catalog';
// Products read signed in (so never from the cache, and not against the anonymous allowance the
// rate-limit step spent): each a real call to the catalog.
const productPath = (n) => `/api/catalog/products/prod_${String((n % 9) + 1).padStart(2, '0')}`;
const OPEN_TIMEOUT_MS = 15_000;
// The catalog's breaker stays open 10 s (openDurationMs in workers/gateway/routes.ts), then two
// good probes close it; chaos settings reach every catalog isolate within 1 s.
const CLOSE_TIMEOUT_MS = 30_000;

/** The fields of a breaker's snapshot worth a line: state, failure rate, calls, when it probes next. */
const brief = (read) => {
  const { state, failureRate, calls, nextProbeAt } = read.body?.[SERVICE] ?? {};
  return { [SERVICE]: { state, failureRate, calls, ...(nextProbeAt ? { nextProbeAt } : {}) } };
};

export const breaker = {
  title: 'Break the catalog on purpose, watch the breaker open and close',
  pattern: 'circuit breaker (a Durable Object per upstream, shared by every isolate), fault injection, last-good fallback',
  async run({ call, show, note, state }) {
    const breakers = () => call('GET', '/_ops/breakers', { admin: true });
    const before = await breakers();
    expectThat(before.status === 200, `GET /_ops/breakers answered ${before.status}, not 200 (is the operator token right? set ADMIN_TOKEN)`);
    show('GET', '/_ops/breakers', before, [], brief(before));

    // Ctrl-C while chaos is on must not leave the catalog failing for whoever uses the suite next:
    // turn it off, then exit as an interrupted process does. A second Ctrl-C exits at once.
    const chaosOff = () => call('DELETE', `/_ops/chaos/${SERVICE}`, { admin: true });
    const onInterrupt = async () => {
      note(`interrupted: turning chaos on ${SERVICE} off`);
      try {
        const off = await chaosOff();
        show('DELETE', `/_ops/chaos/${SERVICE}`, off);
      } finally {
        process.exit(130);
      }
    };
    process.once('SIGINT', onInterrupt);
    let calls = 0;
    try {
      const on = await call('PUT', `/_ops/chaos/${SERVICE}`, { admin: true, body: { failureRate: 1 } });
      show('PUT', `/_ops/chaos/${SERVICE}  {"failureRate":1}`, on);
      expectThat(on.status === 200 || on.status === 204, `turning chaos on answered ${on.status} (is ALLOW_CHAOS true?)`);
      const statuses = [];
      const opened = await pollUntil(
        `the ${SERVICE} breaker open`,
        async () => {
          const answer = await call('GET', productPath(calls++), { token: state.token });
          const fallback = answer.headers.get('x-fallback');
          statuses.push(fallback ? `${answer.status} (x-fallback: ${fallback})` : String(answer.status));
          return breakers();
        },
        (read) => read.body?.[SERVICE]?.state === 'open',
        { timeoutMs: OPEN_TIMEOUT_MS, intervalMs: 100 },
      );
      note(`… ${calls} GET /api/catalog/products/prod_0…: ${statuses.join(', ')}`);
      show('GET', '/_ops/breakers', opened, [], brief(opened));
      // A product read before is answered from its last good copy (x-fallback: last-good); one
      // never read has none, so the open breaker's refusal shows.
      const degraded = await call('GET', productPath(0), { token: state.token });
      show('GET', productPath(0), degraded, ['x-fallback']);
      const unread = `/api/catalog/products/prod_never_read_${crypto.randomUUID().slice(0, 8)}`;
      const refused = await call('GET', unread, { token: state.token });
      show('GET', unread, refused, ['retry-after'], refused.body?.type ?? refused.body);
      expectThat(refused.status === 503 && String(refused.body?.type ?? '').includes('circuit-open'), `with the breaker open a read answered ${refused.status} ${JSON.stringify(refused.body).slice(0, 80)}, not 503 circuit-open`);
    } finally {
      const off = await chaosOff();
      process.removeListener('SIGINT', onInterrupt);
      show('DELETE', `/_ops/chaos/${SERVICE}`, off);
    }
    const openedAt = Date.now();
    note(`… the breaker waits out its open period, then lets probe calls through (one read every 0.5 s)`);
    let probes = 0;
    const closed = await pollUntil(
      `the ${SERVICE} breaker closed again after chaos was turned off`,
      async () => {
        await call('GET', productPath(probes++), { token: state.token });
        return breakers();
      },
      (read) => read.body?.[SERVICE]?.state === 'closed',
      { timeoutMs: CLOSE_TIMEOUT_MS, intervalMs: 500 },
    );
    note(`… ${probes} reads while it waited: refused until the open period ended, then probes, which closed it`);
    show('GET', '/_ops/breakers', closed, [], brief(closed));
    const back = await call('GET', productPath(probes), { token: state.token });
    show('GET', productPath(probes), back, ['x-served-by']);
    expectThat(back.status === 200, `after the breaker closed a read answered ${back.status}, not 200`);
    return `opened after ${calls} read(s) while every catalog call failed (a read tries up to 3 times; the policy opens at ≥ 50% failures over ≥ 5 calls, routes.ts); while open, reads were refused at once (503 circuit-open) or served their last good copy; closed ${Math.round((Date.now() - openedAt) / 1000)} s after chaos stopped`;
  },
};
