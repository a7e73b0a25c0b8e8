import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateSigningKeyPair } from '../../scripts/dev-keys.mjs';
import { redisAvailable, redisServerIsOnPath, upstashBridgeForSuite } from '../support/redis-required';
import { pollUntil, startGateway, type GatewayProcess } from './support/gateway-process';
import { startStandIn, type StandInService } from './support/upstream';

// STATE=upstash: a Bun gateway and a Deno gateway share their rate limits and circuit breakers
// through Upstash Redis (the local Upstash REST bridge in front of a real redis-server), as several
// processes behind one load balancer would: requests through either count against one limit, and
// a breaker opened by failures seen through one refuses calls through the other.
redisServerIsOnPath('shared-state tests of the gateway on Bun and Deno');

const LIMIT = 4;
const problemType = (body: unknown) => (body as { type: string }).type.split('/').pop();
const TOKEN = 'test-upstash-token';

describe.runIf(redisAvailable)('the gateway on Bun and on Deno with STATE=upstash', () => {
  const bridge = upstashBridgeForSuite(TOKEN);
  let catalog: StandInService | undefined;
  let users: StandInService | undefined;
  const gateways: GatewayProcess[] = [];

  beforeAll(async () => {
    [catalog, users] = await Promise.all([startStandIn('catalog'), startStandIn('users')]);
    const keys = await generateSigningKeyPair('test-portable-service-token');
    const vars = {
      SERVICE_TOKEN_PRIVATE_JWK: JSON.stringify(keys.privateJwk),
      UPSTREAM_CATALOG_URL: catalog.url,
      UPSTREAM_USERS_URL: users.url,
      STATE: 'upstash',
      UPSTASH_REDIS_REST_URL: bridge.url,
      UPSTASH_REDIS_REST_TOKEN: TOKEN,
      ROUTE_POLICIES: JSON.stringify({
        catalog: { rateLimit: { algorithm: 'sliding-window', limit: LIMIT, windowMs: 60_000 } },
        users: { rateLimit: false, retry: false, breaker: { minimumCalls: 4, failureRateThreshold: 50, openDurationMs: 60_000 } },
      }),
      BREAKER_REPORT_INTERVAL_MS: '0',
      LOG_LEVEL: 'error',
    };
    gateways.push(...(await Promise.all([startGateway('bun', vars), startGateway('deno', vars)])));
  }, 60_000);

  afterAll(async () => {
    await Promise.all(gateways.map((gateway) => gateway.stop()));
    await Promise.all([catalog?.close(), users?.close()]);
  });

  it('counts requests through both processes against one limit', async () => {
    const [bun, deno] = gateways as [GatewayProcess, GatewayProcess];
    const statuses: number[] = [];
    const remaining: string[] = [];
    // Alternating: bun, deno, bun, deno; each process alone would still allow more.
    for (let i = 0; i < LIMIT; i++) {
      const response = await fetch(`${(i % 2 === 0 ? bun : deno).url}/api/catalog/products/prod_0${i}`);
      await response.body?.cancel();
      statuses.push(response.status);
      remaining.push(/;r=(\d+)/.exec(response.headers.get('ratelimit') ?? '')?.[1] ?? 'none');
    }
    expect(statuses).toEqual([200, 200, 200, 200]);
    expect(remaining).toEqual(['3', '2', '1', '0']);

    for (const gateway of [bun, deno]) {
      const refused = await fetch(`${gateway.url}/api/catalog/products/prod_09`);
      expect(refused.status, gateway.runtime).toBe(429);
      expect(refused.headers.get('ratelimit-policy')).toBe(`"catalog";q=${LIMIT};w=60`);
      expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
    }
    expect(catalog!.callerCalls().length).toBe(LIMIT);
  });

  it('shares the circuit breaker: opened through Bun, Deno refuses at once without calling the service', async () => {
    const [bun, deno] = gateways as [GatewayProcess, GatewayProcess];
    users!.failing = true;
    // Through Bun until its breaker opens: its outcomes are reported after each answer, so Bun
    // refusing at the edge means Redis says open.
    await pollUntil(
      async () => {
        const response = await fetch(`${bun.url}/api/users/me`);
        expect(response.status).toBe(503);
        return problemType(await response.json()) === 'circuit-open';
      },
      { timeoutMs: 5_000, everyMs: 0, describe: () => `Bun's breaker never opened after ${users!.calls.length} failed calls` },
    );
    const calls = users!.calls.length;
    // Deno has made no call to users of its own: what it knows comes from Redis.
    const refused = await fetch(`${deno.url}/api/users/me`);
    expect(refused.status).toBe(503);
    expect(problemType(await refused.json())).toBe('circuit-open');
    expect(users!.calls.length).toBe(calls);
  });
});
