import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateSigningKeyPair } from '../../scripts/dev-keys.mjs';
import { startRedisServer, type RedisServer } from '../../scripts/redis-server.mjs';
import { startBridge, type UpstashBridge } from '../../scripts/upstash-redis-bridge.mjs';
import { redisAvailable, redisServerIsOnPath } from '../support/redis-required';
import { startGateway, type GatewayProcess } from './support/gateway-process';
import { startStandIn, type StandInService } from './support/upstream';

// STATE=upstash: a Bun gateway and a Deno gateway share their rate limits through Upstash Redis
// (the local Upstash REST bridge in front of a real redis-server), as several processes behind
// one load balancer would: requests through either count against one limit.
redisServerIsOnPath('shared-state tests of the gateway on Bun and Deno');

const LIMIT = 4;
const TOKEN = 'test-upstash-token';

describe.runIf(redisAvailable)('the gateway on Bun and on Deno with STATE=upstash', () => {
  let redis: RedisServer | undefined;
  let bridge: UpstashBridge | undefined;
  let catalog: StandInService | undefined;
  const gateways: GatewayProcess[] = [];

  beforeAll(async () => {
    redis = await startRedisServer();
    bridge = await startBridge({ redisUrl: redis.url, token: TOKEN });
    catalog = await startStandIn('catalog');
    const keys = await generateSigningKeyPair('test-portable-service-token');
    const vars = {
      SERVICE_TOKEN_PRIVATE_JWK: JSON.stringify(keys.privateJwk),
      UPSTREAM_CATALOG_URL: catalog.url,
      STATE: 'upstash',
      UPSTASH_REDIS_REST_URL: bridge.url,
      UPSTASH_REDIS_REST_TOKEN: TOKEN,
      ROUTE_POLICIES: JSON.stringify({ catalog: { rateLimit: { algorithm: 'sliding-window', limit: LIMIT, windowMs: 60_000 } } }),
      LOG_LEVEL: 'error',
    };
    gateways.push(...(await Promise.all([startGateway('bun', vars), startGateway('deno', vars)])));
  }, 60_000);

  afterAll(async () => {
    await Promise.all(gateways.map((gateway) => gateway.stop()));
    await catalog?.close();
    await bridge?.close();
    await redis?.close();
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
});
