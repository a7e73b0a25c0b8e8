import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { MemoryBreakerAuthority } from '../../shared/adapters/memory/memory-breaker-authority';
import { UpstashBreakerAuthorities } from '../../shared/adapters/upstash/redis-breaker-authority';
import { DEFAULT_BREAKER_OPTIONS, type CircuitBreakerOptions } from '../../shared/resilience/circuit-breaker';
import { redisAvailable, redisServerIsOnPath, upstashBridgeForSuite } from '../support/redis-required';

// The Upstash breaker authority (shared/adapters/upstash/redis-breaker-authority.ts) through the
// local Upstash REST bridge in front of a real redis-server: it must decide as the in-memory
// authority does (the same ledger), and two processes' clients must share one breaker without
// losing an update when they report at once.
redisServerIsOnPath('Upstash breaker authority tests');

const TOKEN = 'test-upstash-token';
const options: CircuitBreakerOptions = { ...DEFAULT_BREAKER_OPTIONS, minimumCalls: 20, failureRateThreshold: 50, openDurationMs: 1_000, halfOpenMaxCalls: 1 };

describe.runIf(redisAvailable)('UpstashBreakerAuthorities on a real redis-server through the local bridge', () => {
  const bridge = upstashBridgeForSuite(TOKEN);
  const clock = { now: 1_000_000 };
  const authorities = (prefix: string) => new UpstashBreakerAuthorities({ url: bridge.url, token: TOKEN, prefix, now: () => clock.now });

  it('decides as the in-memory authority does: opens, refuses probes until openDuration, closes after a good probe', async () => {
    const redis = authorities(`test:${randomUUID()}:`).authority('catalog');
    const memory = new MemoryBreakerAuthority(() => clock.now);
    const both = async <T>(step: (authority: typeof redis) => Promise<T>) => {
      const [fromRedis, fromMemory] = await Promise.all([step(redis), step(memory)]);
      expect(fromRedis).toEqual(fromMemory);
      return fromRedis;
    };
    expect(await both((a) => a.current())).toEqual({ state: 'closed' });
    await both((a) => a.report(options, { calls: 12, failures: 2, slow: 0 }));
    expect(await both((a) => a.report(options, { calls: 8, failures: 8, slow: 0 }))).toMatchObject({ state: 'open' });
    expect(await both((a) => a.acquireProbe(options))).toMatchObject({ permitted: false });
    clock.now += options.openDurationMs;
    const probe = await both((a) => a.acquireProbe(options));
    expect(probe).toMatchObject({ permitted: true, view: { state: 'half-open' } });
    expect(await both((a) => a.acquireProbe(options))).toMatchObject({ permitted: false });
    expect(await both((a) => a.probeOutcome(options, { failed: false, durationMs: 5, period: probe.period! }))).toEqual({ state: 'closed' });
  });

  it('decides as the in-memory authority does on outcomes with their ages: stale ones count for nothing, a failure while half-open re-opens it', async () => {
    const redis = authorities(`test:${randomUUID()}:`).authority('catalog');
    const memory = new MemoryBreakerAuthority(() => clock.now);
    const both = async <T>(step: (authority: typeof redis) => Promise<T>) => {
      const [fromRedis, fromMemory] = await Promise.all([step(redis), step(memory)]);
      expect(fromRedis).toEqual(fromMemory);
      return fromRedis;
    };
    // Failures buffered through a five-minute outage: older than the window.
    const stale = { calls: 40, failures: 40, slow: 0, ageMs: 5 * 60_000, failedAgeMs: 5 * 60_000 };
    expect(await both((a) => a.report(options, [stale, { calls: 1, failures: 0, slow: 0, ageMs: 0 }]))).toEqual({ state: 'closed' });
    expect(await both((a) => a.report(options, { calls: 20, failures: 20, slow: 0, ageMs: 100, failedAgeMs: 100 }))).toMatchObject({ state: 'open' });
    clock.now += options.openDurationMs + 500;
    // A call admitted before it opened that failed 200 ms ago, once half-open had begun.
    const view = await both((a) => a.report(options, { calls: 1, failures: 1, slow: 0, ageMs: 200, failedAgeMs: 200 }));
    expect(view).toEqual({ state: 'open', openedAt: clock.now });
  });

  it('two processes share one breaker, and reports made at once are all counted', async () => {
    const prefix = `test:${randomUUID()}:`;
    const [one, two] = [authorities(prefix).authority('users'), authorities(prefix).authority('users')];
    // 19 failed calls reported at once from both sides: below minimumCalls (20) it stays closed...
    const views = await Promise.all(Array.from({ length: 19 }, (_, i) => (i % 2 ? one : two).report(options, { calls: 1, failures: 1, slow: 0 })));
    expect(views.every((view) => view.state === 'closed')).toBe(true);
    // ...and the 20th opens it only if none of the 19 was lost to a concurrent write.
    expect(await one.report(options, { calls: 1, failures: 1, slow: 0 })).toMatchObject({ state: 'open' });
    expect(await two.current()).toMatchObject({ state: 'open' });
  });

  it('applies a step once when the client re-sends a compare-and-set whose answer was lost', async () => {
    // Between the client and the bridge: the first EVAL goes through to Redis, then its connection
    // is reset before the answer, as a network would; the client sends it again (its one retry).
    let resets = 0;
    const proxy = createServer((request: IncomingMessage, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', async () => {
        const body = Buffer.concat(chunks);
        const upstream = await fetch(new URL(request.url ?? '/', bridge.url), {
          method: request.method,
          headers: { authorization: request.headers.authorization ?? '', 'content-type': 'application/json' },
          body: request.method === 'GET' ? undefined : body,
        });
        const answer = Buffer.from(await upstream.arrayBuffer());
        if (resets === 0 && /^\["eval"/i.test(body.toString())) {
          resets++;
          request.socket.destroy();
          return;
        }
        response.writeHead(upstream.status, { 'content-type': upstream.headers.get('content-type') ?? 'application/json' });
        response.end(answer);
      });
    });
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
      const prefix = `test:${randomUUID()}:`;
      const opensAtTwo: CircuitBreakerOptions = { ...options, minimumCalls: 2 };
      const throughProxy = new UpstashBreakerAuthorities({ url, token: TOKEN, prefix, now: () => clock.now }).authority('users');
      // One failed call, its write re-sent: counted twice it would be 2 of 2 failures, open.
      expect(await throughProxy.report(opensAtTwo, { calls: 1, failures: 1, slow: 0 })).toEqual({ state: 'closed' });
      expect(resets).toBe(1);
      // Counted once: the second failure is what opens it.
      expect(await authorities(prefix).authority('users').report(opensAtTwo, { calls: 1, failures: 1, slow: 0 })).toMatchObject({ state: 'open' });
    } finally {
      proxy.closeAllConnections();
      await new Promise<void>((resolve) => proxy.close(() => resolve()));
    }
  });
});
