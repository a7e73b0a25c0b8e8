import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateSigningKeyPair } from '../../scripts/dev-keys.mjs';
// @ts-expect-error: a plain .mjs test helper without types
import { startTestOrigin } from '../support/test-origin.mjs';
import { pollUntil, startGateway, type GatewayProcess, type Runtime } from './support/gateway-process';
import { startStandIn, type StandInService } from './support/upstream';

// The gateway's HTTP origin pools off Cloudflare: the strangler fig's `legacy` pool over two
// loopback origins, balanced round robin, each with its own breaker, health-checked by a timer
// (HEALTH_CHECK_INTERVAL_MS) with the results in the process's memory; /api/users carved out.

interface TestOrigin {
  url: string;
  close(): Promise<void>;
}

const ROUTE_POLICIES = {
  // No retries: a failing attempt is the caller's answer, so what reaches whom is plain to see.
  legacy: { retry: false, breaker: { minimumCalls: 2, failureRateThreshold: 50, openDurationMs: 300, halfOpenMaxCalls: 1 } },
};

const setFailing = async (origin: TestOrigin, failing: boolean) =>
  expect((await fetch(`${origin.url}/_mode`, { method: 'POST', body: JSON.stringify({ failing }) })).status).toBe(200);
const countOf = async (origin: TestOrigin) => ((await (await fetch(`${origin.url}/_count`)).json()) as { count: number }).count;

describe.each<Runtime>(['bun', 'deno'])('origin pools on %s', (runtime) => {
  let a: TestOrigin;
  let b: TestOrigin;
  let users: StandInService;
  let gateway: GatewayProcess;

  beforeAll(async () => {
    [a, b] = (await Promise.all([startTestOrigin('a'), startTestOrigin('b')])) as [TestOrigin, TestOrigin];
    users = await startStandIn('users');
    const keys = await generateSigningKeyPair('test-portable-pools');
    gateway = await startGateway(runtime, {
      SERVICE_TOKEN_PRIVATE_JWK: JSON.stringify(keys.privateJwk),
      UPSTREAM_USERS_URL: users.url,
      UPSTREAM_CATALOG_URL: '',
      UPSTREAM_ORDERS_URL: '',
      STATE: 'memory',
      ORIGIN_POOLS: JSON.stringify({ legacy: [{ name: 'a', url: a.url }, { name: 'b', url: b.url }] }),
      HEALTH_CHECK_INTERVAL_MS: '100',
      ROUTE_POLICIES: JSON.stringify(ROUTE_POLICIES),
      BREAKER_REPORT_INTERVAL_MS: '0',
      LOG_LEVEL: 'error',
    });
  }, 60_000);

  afterAll(async () => {
    await gateway?.stop();
    await Promise.all([a?.close(), b?.close(), users?.close()]);
  });

  const servedBy = async (path = '/shop') => {
    const response = await fetch(`${gateway.url}${path}`);
    await response.body?.cancel();
    return { status: response.status, by: response.headers.get('x-served-by') };
  };

  it('sends what nothing else claims to the pool, round robin, and /api/users to the users service', async () => {
    const answers = [];
    for (let i = 0; i < 6; i++) answers.push((await servedBy()).by);
    expect(answers.filter((by) => by === 'a')).toHaveLength(3);
    expect(answers.filter((by) => by === 'b')).toHaveLength(3);
    expect(await servedBy('/api/users/me')).toEqual({ status: 200, by: 'users' });
    expect(users.calls.at(-1)?.url).toBe('/me');
    // The gateway's own /health is never the pool's.
    expect(await servedBy('/health')).toEqual({ status: 200, by: null });
  });

  it('takes a failing origin out (breaker, then health check) and back once it is healthy; 503 when none is', async () => {
    await setFailing(b, true);
    try {
      // Its breaker opens after two failures (those callers get its 503: no retries here); the
      // health timer then finds it down too.
      await pollUntil(
        async () => {
          const before = await countOf(b);
          const answers = [];
          for (let i = 0; i < 6; i++) answers.push(await servedBy());
          return (await countOf(b)) === before && answers.every((answer) => answer.status === 200 && answer.by === 'a');
        },
        { timeoutMs: 10_000, everyMs: 100, describe: () => 'b left out of six requests in a row' },
      );
      // Past its breaker's open period (300 ms: time has to pass here, nothing to wait on), the
      // failed health check alone keeps it out.
      const before = await countOf(b);
      await new Promise((resolve) => setTimeout(resolve, 400));
      for (let i = 0; i < 6; i++) expect((await servedBy()).by).toBe('a');
      expect(await countOf(b)).toBe(before);

      await setFailing(a, true);
      // a's own failures are 503s too (its JSON); once both are out, the gateway's problem answers.
      let problem = '';
      await pollUntil(
        async () => {
          const response = await fetch(`${gateway.url}/shop`);
          problem = response.headers.get('content-type') === 'application/problem+json' ? ((await response.json()) as { type: string }).type : (await response.text(), '');
          return response.status === 503 && problem !== '';
        },
        { timeoutMs: 10_000, everyMs: 100, describe: () => 'the no-healthy-origin 503 once both are out' },
      );
      expect(problem).toMatch(/no-healthy-origin$/);
    } finally {
      await Promise.all([setFailing(a, false), setFailing(b, false)]);
    }
    await pollUntil(async () => (await servedBy()).by === 'b', { timeoutMs: 10_000, everyMs: 50, describe: () => 'b answering again' });
  });
});
