import fc from 'fast-check';
import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { startRedisServer } from '../../scripts/redis-server.mjs';
import { startBridge } from '../../scripts/upstash-redis-bridge.mjs';
import { redisAvailable, redisServerIsOnPath, upstashBridgeForSuite } from '../support/redis-required';
import { MemoryRateLimitBackend } from '../../shared/adapters/memory/memory-rate-limit-backend';
import { upstashRateLimitBackend, UpstashRateLimitBackend, UpstashRateLimitError } from '../../shared/adapters/upstash/ratelimit-backend';
import type { RateLimitAlgorithm, RateLimitDecision, RateLimitPolicy } from '../../shared/ratelimit/policy';

// The Upstash rate-limit backend (shared/adapters/upstash/ratelimit-backend.ts), driven through
// the local Upstash REST bridge in front of a real redis-server, against the pure algorithms (the
// memory backend) as the reference: what @upstash/ratelimit decides in Redis must be what the
// RateLimiter Durable Object decides in memory.
//
// It needs a real redis-server; as in upstash-redis-bridge.test.ts, a missing one fails in CI and
// shows as skipped, with a warning, elsewhere; it never passes quietly.
redisServerIsOnPath('Upstash rate-limit backend tests');

const TOKEN = 'test-upstash-token';

/**
 * @upstash/ratelimit takes the time from Date.now() in the client (the Lua scripts get it as an
 * argument), so a frozen clock makes it exactly reproducible, and the reference gets the same one.
 */
let clock = 0;
const freezeClock = (at: number) => {
  clock = at;
  vi.spyOn(Date, 'now').mockImplementation(() => clock);
};

/** The sliding window's retryAfter differs by design (see the adapter): compared apart. */
const comparable = (policy: RateLimitPolicy, d: RateLimitDecision) =>
  policy.algorithm === 'sliding-window' && d.retryAfterMs > 0 ? { ...d, retryAfterMs: 'waits' } : d;

describe.runIf(redisAvailable)('Upstash rate-limit backend on a real redis-server through the local bridge', () => {
  const bridge = upstashBridgeForSuite(TOKEN);

  afterEach(() => {
    vi.restoreAllMocks();
  });

  // A generous deadline: these tests are about exactness, and a timed-out decision would throw
  // (and fail the test) rather than pass quietly.
  const backend = (prefix = `test:${randomUUID()}`) => new UpstashRateLimitBackend({ url: bridge.url, token: TOKEN, prefix, timeoutMs: 10_000 });

  it.each(['sliding-window', 'token-bucket'] as const)(
    '%s: 60 concurrent decisions against a limit of 20 admit exactly 20, field for field what the pure algorithm decides',
    async (algorithm: RateLimitAlgorithm) => {
      const windowMs = 60_000;
      const policy: RateLimitPolicy = { algorithm, limit: 20, windowMs };
      freezeClock(Math.floor(Date.now() / windowMs) * windowMs + 30_000); // the middle of a window
      const upstash = backend();
      const decisions = await Promise.all(Array.from({ length: 60 }, () => upstash.decide('caller', policy)));

      const reference = new MemoryRateLimitBackend(() => clock);
      const expected: RateLimitDecision[] = [];
      for (let i = 0; i < 60; i++) expected.push(await reference.decide('caller', policy));

      expect(decisions.filter((d) => d.allowed)).toHaveLength(20);
      // Redis ran them in some order; as a set they are the reference's.
      const order = (a: RateLimitDecision, b: RateLimitDecision) => Number(b.allowed) - Number(a.allowed) || b.remaining - a.remaining;
      expect(decisions.sort(order).map((d) => comparable(policy, d))).toEqual(expected.sort(order).map((d) => comparable(policy, d)));
      expect(decisions[0]).toMatchObject({ allowed: true, limit: 20, remaining: 19, resetMs: algorithm === 'token-bucket' ? 3_000 : 30_000, retryAfterMs: 0 });
      expect(decisions.at(-1)).toMatchObject({ allowed: false, remaining: 0 });
      // Refused: Upstash's reset is the next token (exact) or the end of the window (an estimate
      // for the sliding window, where the reference knows it is 1 ms later).
      expect(decisions.at(-1)!.retryAfterMs).toBe(algorithm === 'token-bucket' ? 3_000 : 30_000);
      expect(expected.at(-1)!.retryAfterMs).toBe(algorithm === 'token-bucket' ? 3_000 : 30_001);
      // Another caller has its own count.
      expect(await upstash.decide('someone-else', policy)).toMatchObject({ allowed: true, remaining: 19 });
    },
  );

  it('sliding window over time (window boundaries, the previous window weighted down): every decision is the reference’s', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 8 }),
        fc.integer({ min: 1_000, max: 5_000 }),
        fc.array(fc.record({ gap: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 12_000 })), burst: fc.integer({ min: 1, max: 6 }) }), { minLength: 1, maxLength: 12 }),
        async (limit, windowMs, schedule) => {
          const policy: RateLimitPolicy = { algorithm: 'sliding-window', limit, windowMs };
          freezeClock(Math.floor(Date.now() / windowMs) * windowMs);
          const upstash = backend();
          const reference = new MemoryRateLimitBackend(() => clock);
          for (const { gap, burst } of schedule) {
            clock += gap;
            for (let i = 0; i < burst; i++) {
              const [got, want] = [await upstash.decide('k', policy), await reference.decide('k', policy)];
              expect(comparable(policy, got)).toEqual(comparable(policy, want));
            }
          }
          vi.restoreAllMocks();
        },
      ),
      { numRuns: 15 },
    );
  }, 60_000);

  it('token bucket over time, refilling one token every windowMs / limit: every decision is the reference’s, retryAfter included', async () => {
    // Times on the refill grid: a bucket that sits full keeps its refill phase in Upstash and not
    // in ours (the adapter says so), and on the grid that phase is always 0.
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom([4, 1_000], [5, 10_000], [10, 2_000]),
        fc.array(fc.record({ intervals: fc.integer({ min: 0, max: 25 }), burst: fc.integer({ min: 1, max: 6 }) }), { minLength: 1, maxLength: 12 }),
        async ([limit, windowMs], schedule) => {
          const policy: RateLimitPolicy = { algorithm: 'token-bucket', limit: limit!, windowMs: windowMs! };
          const interval = windowMs! / limit!;
          freezeClock(Math.floor(Date.now() / windowMs!) * windowMs!);
          const upstash = backend();
          const reference = new MemoryRateLimitBackend(() => clock);
          for (const { intervals, burst } of schedule) {
            clock += intervals * interval;
            for (let i = 0; i < burst; i++) expect(await upstash.decide('k', policy)).toEqual(await reference.decide('k', policy));
          }
          vi.restoreAllMocks();
        },
      ),
      { numRuns: 15 },
    );
  }, 60_000);

  it('one client per configuration per isolate; a policy change starts every key afresh', async () => {
    const options = { url: bridge.url, token: TOKEN, prefix: `test:${randomUUID()}` };
    expect(upstashRateLimitBackend(options)).toBe(upstashRateLimitBackend({ ...options }));
    expect(upstashRateLimitBackend(options)).not.toBe(upstashRateLimitBackend({ ...options, token: 'other' }));
    const shared = upstashRateLimitBackend(options);
    const five: RateLimitPolicy = { algorithm: 'sliding-window', limit: 5, windowMs: 86_400_000 };
    for (let i = 0; i < 5; i++) await shared.decide('k', five);
    expect((await shared.decide('k', five)).allowed).toBe(false);
    expect(await shared.decide('k', { ...five, limit: 6 })).toMatchObject({ allowed: true, remaining: 5 });
  });

  it('an answer lost on the way back (a network blip after Redis ran the script) counts the decision once, not twice', async () => {
    // A proxy in front of the bridge that passes the first script call Redis runs (not the
    // NOSCRIPT answer to an EVALSHA of a script it does not have yet) through to Redis, then drops
    // the connection instead of relaying the answer: the decision was made and counted, and
    // the client saw a network error. Retrying that command would run the script, and count, again.
    let dropped = 0;
    const proxy: Server = createServer(async (request, response) => {
      const chunks: Buffer[] = [];
      for await (const chunk of request) chunks.push(chunk as Buffer);
      const body = Buffer.concat(chunks);
      const upstream = await fetch(new URL(request.url ?? '/', bridge.url), {
        method: request.method,
        headers: { authorization: request.headers.authorization ?? '', 'content-type': 'application/json' },
        body: request.method === 'GET' ? undefined : body,
      });
      const answer = Buffer.from(await upstream.arrayBuffer());
      if (dropped === 0 && /eval/i.test(body.toString()) && !/NOSCRIPT/.test(answer.toString())) {
        dropped++;
        request.socket.destroy();
        return;
      }
      response.writeHead(upstream.status, { 'content-type': upstream.headers.get('content-type') ?? 'application/json' });
      response.end(answer);
    });
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
      const policy: RateLimitPolicy = { algorithm: 'sliding-window', limit: 10, windowMs: 86_400_000 };
      const blipped = new UpstashRateLimitBackend({ url, token: TOKEN, prefix: `test:${randomUUID()}`, timeoutMs: 5_000 });
      await expect(blipped.decide('k', policy)).rejects.toThrow(UpstashRateLimitError);
      expect(dropped).toBe(1);
      // The lost decision counted once: this is the second, with 8 left (a retry would leave 7).
      expect(await blipped.decide('k', policy)).toMatchObject({ allowed: true, remaining: 8 });
    } finally {
      await new Promise<void>((resolve) => proxy.close(() => resolve()));
    }
  });

  it('a wrong token, or no Redis at all, is an error the caller sees (never a made-up decision)', async () => {
    const policy: RateLimitPolicy = { algorithm: 'token-bucket', limit: 5, windowMs: 1_000 };
    const wrongToken = new UpstashRateLimitBackend({ url: bridge.url, token: 'not-the-token' });
    await expect(wrongToken.decide('k', policy)).rejects.toThrow(UpstashRateLimitError);
    const doomed = await startRedisServer();
    const doomedBridge = await startBridge({ redisUrl: doomed.url, token: TOKEN });
    const closedPort = new URL(doomedBridge.url);
    await doomedBridge.close();
    await doomed.close();
    const nowhere = new UpstashRateLimitBackend({ url: closedPort.origin, token: TOKEN, timeoutMs: 2_000 });
    await expect(nowhere.decide('k', policy)).rejects.toThrow(/did not answer the rate-limit decision/);
  });
});
