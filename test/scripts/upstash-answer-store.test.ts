import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UpstashAnswerStore } from '../../shared/adapters/upstash/redis-answer-store';
import type { CachedAnswer } from '../../shared/cache/cached-answer';
import { startRedisServer, type RedisServer } from '../../scripts/redis-server.mjs';
import { RedisConnection } from '../../scripts/resp.mjs';
import { startBridge, type UpstashBridge } from '../../scripts/upstash-redis-bridge.mjs';
import { redisAvailable, redisServerIsOnPath } from '../support/redis-required';

// The gateway's L2 response cache (shared/adapters/upstash/redis-answer-store.ts) through the real
// @upstash/redis client, against the local Upstash REST bridge in front of a real redis-server.
// Like upstash-redis-bridge.test.ts: the suite runs only where redis-server is on PATH, and then
// the check below fails in CI (CI or STRATUS_REQUIRE_REDIS=1) rather than pass quietly.
redisServerIsOnPath('L2 response-cache tests');

const TOKEN = 'test-upstash-token';

const answer = (over: Partial<CachedAnswer> = {}): CachedAnswer => ({
  status: 200,
  headers: [
    ['content-type', 'application/json'],
    ['x-upstream', 'catalog'],
  ],
  body: new TextEncoder().encode(JSON.stringify({ id: 'p1', name: 'Zelt ⛺' })).buffer as ArrayBuffer,
  storedAt: 1_700_000_000_000,
  ttlSeconds: 30,
  staleWhileRevalidateSeconds: 60,
  tags: { 'product:p1': 1_700_000_000_123 },
  ...over,
});

describe.runIf(redisAvailable)('UpstashAnswerStore against the bridge and a real redis-server', () => {
  let server: RedisServer | undefined;
  let bridge: UpstashBridge | undefined;
  let direct: RedisConnection | undefined;
  let hanging: Server | undefined;
  let hangingUrl = '';

  beforeAll(async () => {
    server = await startRedisServer();
    bridge = await startBridge({ redisUrl: server.url, token: TOKEN });
    direct = new RedisConnection(server.url);
    // An "Upstash" that accepts requests and never answers.
    hanging = createServer(() => undefined);
    await new Promise<void>((resolve) => hanging!.listen(0, '127.0.0.1', resolve));
    hangingUrl = `http://127.0.0.1:${(hanging.address() as AddressInfo).port}`;
  }, 20_000);

  afterAll(async () => {
    hanging?.closeAllConnections();
    await new Promise((resolve) => hanging?.close(resolve));
    await bridge?.close();
    direct?.close();
    await server?.close();
  });

  const store = (options: Partial<ConstructorParameters<typeof UpstashAnswerStore>[0]> = {}) =>
    new UpstashAnswerStore({ url: bridge!.url, token: TOKEN, prefix: `test:cache:${randomUUID()}:`, ...options });

  it('keeps an answer: status, headers, bytes, stored-at, TTL, swr and tag versions', async () => {
    const l2 = store();
    const a = answer();
    await l2.put('/__stratus-cache/catalog/v1/public/-/products/p1', a);
    const back = await l2.get('/__stratus-cache/catalog/v1/public/-/products/p1');
    expect(back).not.toBeNull();
    expect(new TextDecoder().decode(back!.body)).toBe(JSON.stringify({ id: 'p1', name: 'Zelt ⛺' }));
    expect({ ...back, body: null }).toEqual({ ...a, body: null });
  });

  it('keeps any bytes (a binary body) exactly', async () => {
    const l2 = store();
    const bytes = new Uint8Array(200 * 1024).map((_, i) => (i * 7 + 3) % 256);
    await l2.put('/bin', answer({ body: bytes.buffer as ArrayBuffer, headers: [['content-type', 'application/octet-stream']] }));
    expect(new Uint8Array((await l2.get('/bin'))!.body)).toEqual(bytes);
  });

  it('stores with EX = TTL + stale-while-revalidate, under its prefix', async () => {
    const prefix = `test:cache:${randomUUID()}:`;
    const l2 = store({ prefix });
    await l2.put('/ttl', answer({ ttlSeconds: 30, staleWhileRevalidateSeconds: 60 }));
    const [ttl] = await direct!.exec([['TTL', `${prefix}/ttl`]]);
    expect(Number(ttl)).toBeGreaterThan(85);
    expect(Number(ttl)).toBeLessThanOrEqual(90);
  });

  it('null for a key it does not have, and for a value that is not an answer', async () => {
    const prefix = `test:cache:${randomUUID()}:`;
    const l2 = store({ prefix });
    expect(await l2.get('/missing')).toBeNull();
    await direct!.exec([['SET', `${prefix}/foreign`, '{"something":"else"}']]);
    expect(await l2.get('/foreign')).toBeNull();
    await direct!.exec([['SET', `${prefix}/text`, 'not json at all']]);
    expect(await l2.get('/text')).toBeNull();
  });

  it('a second put replaces the first', async () => {
    const l2 = store();
    await l2.put('/k', answer({ storedAt: 1 }));
    await l2.put('/k', answer({ storedAt: 2 }));
    expect((await l2.get('/k'))?.storedAt).toBe(2);
  });

  it('rejects (never hangs) when Upstash does not answer in time, or refuses the token', async () => {
    const slow = new UpstashAnswerStore({ url: hangingUrl, token: TOKEN, timeoutMs: 150 });
    const started = Date.now();
    await expect(slow.get('/x')).rejects.toThrow();
    await expect(slow.put('/x', answer())).rejects.toThrow();
    expect(Date.now() - started).toBeLessThan(2_000);
    await expect(store({ token: 'wrong-token' }).get('/x')).rejects.toThrow();
  });
});
