import { describe, expect, it } from 'vitest';
import { MemoryBreakerAuthority } from '../../../shared/adapters/memory/memory-breaker-authority';
import { BreakerClient } from '../../../shared/resilience/breaker-client';
import { circuitBreaker, isBrokenCircuitError } from '../../../shared/resilience/breaker-policy';
import { Bulkhead } from '../../../shared/resilience/bulkhead';
import { DEFAULT_BREAKER_OPTIONS, type CircuitBreakerOptions } from '../../../shared/resilience/circuit-breaker';
import { wrap } from '../../../shared/resilience/policy';
import { isTimeoutError, timeout } from '../../../shared/resilience/timeout';

const options: CircuitBreakerOptions = { ...DEFAULT_BREAKER_OPTIONS, minimumCalls: 2, failureRateThreshold: 50, openDurationMs: 1_000, halfOpenMaxCalls: 1 };

function setup() {
  let now = 0;
  const authority = new MemoryBreakerAuthority(() => now);
  const client = new BreakerClient({ breaker: options, authority: () => authority, reportIntervalMs: 0, now: () => now, sleep: async () => undefined });
  const deferred: Promise<unknown>[] = [];
  const defer = (work: Promise<unknown>) => void deferred.push(work);
  return { authority, client, defer, settle: () => Promise.all(deferred), advance: (ms: number) => (now += ms) };
}

describe('circuitBreaker policy', () => {
  it('counts a 5xx-like result and a thrown error as failures, then refuses without calling', async () => {
    const { client, defer, settle } = setup();
    const breaker = circuitBreaker(client, { isFailure: (r) => r === 'bad' });
    await breaker.execute(async () => 'bad', { defer });
    await expect(breaker.execute(() => Promise.reject(new Error('reset')), { defer })).rejects.toThrow('reset');
    await settle();
    let called = false;
    const refused = await breaker.execute(async () => (called = true), { defer }).catch((e: unknown) => e);
    expect(isBrokenCircuitError(refused)).toBe(true);
    expect(called).toBe(false);
  });

  it('gives up waiting for a slow probe permit at the deadline, frees the bulkhead slot, and hands the late permit back', async () => {
    const { authority, client, defer, settle, advance } = setup();
    const breaker = circuitBreaker(client, { isFailure: () => false });
    // Open it, and wait out the open period: the next call needs a probe permit from the authority.
    await client.acquire();
    await client.record({ permitted: true }, { failed: true, durationMs: 1 });
    await client.record({ permitted: true }, { failed: true, durationMs: 1 });
    advance(1_000);
    // The authority grants the permit only after the caller's deadline has passed.
    let grant!: () => void;
    const slow = new Promise<void>((resolve) => (grant = resolve));
    const acquireProbe = authority.acquireProbe.bind(authority);
    authority.acquireProbe = async (o) => (await slow, acquireProbe(o));
    const bulkhead = new Bulkhead({ maxConcurrent: 1, maxQueue: 0 });
    let called = false;
    const error = await wrap(timeout(20), bulkhead, breaker)
      .execute(async () => (called = true), { defer })
      .catch((e: unknown) => e);
    expect(isTimeoutError(error)).toBe(true);
    expect(bulkhead.active).toBe(0);
    grant();
    await settle();
    expect(called).toBe(false);
    expect(authority.calls.cancelProbe).toBe(1);
    expect(authority.state).toMatchObject({ kind: 'half-open', inFlight: 0 });
  });
});
