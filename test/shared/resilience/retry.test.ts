import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { backoffDelay, isRetryableRequest, isRetryableStatus, retry, retryAfterMs, type RetryOptions } from '../../../shared/resilience/retry';
import { RetryBudget } from '../../../shared/resilience/retry-budget';

const options: RetryOptions = { maxAttempts: 4, baseDelayMs: 100, maxDelayMs: 1_000 };
const noSleep = async () => undefined;

describe('backoffDelay (full jitter)', () => {
  it('stays within [0, min(maxDelay, base·2^(n-1))) for any retry and any random draw', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 40 }),
        fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
        fc.integer({ min: 1, max: 10_000 }),
        fc.integer({ min: 1, max: 100_000 }),
        (retryNumber, draw, baseDelayMs, maxDelayMs) => {
          const delay = backoffDelay(retryNumber, { maxAttempts: 5, baseDelayMs, maxDelayMs }, () => draw);
          const cap = Math.min(maxDelayMs, baseDelayMs * 2 ** (retryNumber - 1));
          expect(delay).toBeGreaterThanOrEqual(0);
          expect(delay).toBeLessThan(Math.max(cap, 1));
          expect(Number.isInteger(delay)).toBe(true);
        },
      ),
    );
  });

  it('doubles the cap per retry until maxDelayMs', () => {
    const top = () => 0.999999;
    expect([1, 2, 3, 4, 5].map((n) => backoffDelay(n, options, top))).toEqual([99, 199, 399, 799, 999]);
  });
});

describe('retryAfterMs', () => {
  it('reads delay-seconds and HTTP-dates; ignores garbage', () => {
    const now = Date.parse('Mon, 23 Nov 2026 10:00:00 GMT');
    expect(retryAfterMs('3', now)).toBe(3_000);
    expect(retryAfterMs('Mon, 23 Nov 2026 10:00:05 GMT', now)).toBe(5_000);
    expect(retryAfterMs('Mon, 23 Nov 2026 09:00:00 GMT', now)).toBe(0);
    expect(retryAfterMs('soon', now)).toBeNull();
    expect(retryAfterMs('0.5', now)).toBeNull();
    expect(retryAfterMs('-1', now)).toBeNull();
    expect(retryAfterMs(null, now)).toBeNull();
  });
});

describe('what may be retried', () => {
  it('retries idempotent methods, and others only with an Idempotency-Key', () => {
    expect(isRetryableRequest('GET', new Headers())).toBe(true);
    expect(isRetryableRequest('put', new Headers())).toBe(true);
    expect(isRetryableRequest('POST', new Headers())).toBe(false);
    expect(isRetryableRequest('PATCH', new Headers())).toBe(false);
    expect(isRetryableRequest('POST', new Headers({ 'Idempotency-Key': 'k1' }))).toBe(true);
  });

  it('retries overload and gateway statuses, not client errors or a 500', () => {
    expect([429, 502, 503, 504].every(isRetryableStatus)).toBe(true);
    expect([200, 400, 404, 409, 500, 501].some(isRetryableStatus)).toBe(false);
  });
});

describe('retry policy', () => {
  const statusPolicy = (extra = {}) =>
    retry({ ...options, sleep: noSleep, random: () => 0.5, retryResult: (r) => ({ retry: isRetryableStatus((r as Response).status) }), ...extra });

  it('absorbs a transient 503', async () => {
    const statuses = [503, 200];
    const attempts: number[] = [];
    const response = await statusPolicy().execute(async ({ attempt }) => {
      attempts.push(attempt);
      return new Response(null, { status: statuses.shift() });
    });
    expect(response.status).toBe(200);
    expect(attempts).toEqual([1, 2]);
  });

  it('gives up after maxAttempts and hands back the last answer', async () => {
    let calls = 0;
    const response = await statusPolicy().execute(async () => {
      calls++;
      return new Response(null, { status: 503 });
    });
    expect(response.status).toBe(503);
    expect(calls).toBe(4);
  });

  const retryAfterPolicy = (waits: number[]) =>
    retry({
      ...options,
      random: () => 0,
      sleep: async (ms) => void waits.push(ms),
      retryResult: (r) => ({ retry: (r as Response).status === 429, afterMs: retryAfterMs((r as Response).headers.get('retry-after'), 0) }),
    });

  it('waits at least what Retry-After asks', async () => {
    const waits: number[] = [];
    const answers = [new Response(null, { status: 429, headers: { 'retry-after': '0.5' } }), new Response(null, { status: 429, headers: { 'retry-after': '1' } }), new Response('ok')];
    expect((await retryAfterPolicy(waits).execute(async () => answers.shift()!)).status).toBe(200);
    // '0.5' is not delay-seconds (integers only): backoff alone (0 with random 0); then the 1 s asked.
    expect(waits).toEqual([0, 1_000]);
  });

  it('hands back the answer, Retry-After and all, when it asks for longer than maxDelayMs', async () => {
    const waits: number[] = [];
    let calls = 0;
    const response = await retryAfterPolicy(waits).execute(async () => (calls++, new Response(null, { status: 429, headers: { 'retry-after': '30' } })));
    expect(calls).toBe(1);
    expect(waits).toEqual([]);
    expect(response.headers.get('retry-after')).toBe('30');
  });

  it('retries thrown errors only when told to, and rethrows the last', async () => {
    let calls = 0;
    const policy = retry({ ...options, sleep: noSleep, retryError: (e) => (e as Error).message === 'network' });
    await expect(
      policy.execute(async () => {
        calls++;
        throw new Error(calls < 2 ? 'network' : 'fatal');
      }),
    ).rejects.toThrow('fatal');
    expect(calls).toBe(2);
  });

  it('stops retrying when the budget is spent', async () => {
    const budget = new RetryBudget({ ratio: 0.2, minRetries: 1, windowMs: 10_000 });
    let calls = 0;
    const policy = statusPolicy({ budget, now: () => 1_000 });
    for (let i = 0; i < 10; i++) {
      await policy.execute(async () => {
        calls++;
        return new Response(null, { status: 503 });
      });
    }
    // 10 calls allow max(1, 0.2·10) = 2 retries in all, not 3 per call.
    expect(calls).toBe(12);
  });
});

describe('RetryBudget', () => {
  it('allows at most ratio·calls retries in the window, with a floor, and forgets old calls', () => {
    const budget = new RetryBudget({ ratio: 0.2, minRetries: 2, windowMs: 10_000 });
    for (let i = 0; i < 20; i++) budget.recordCall(0);
    const granted = Array.from({ length: 6 }, () => budget.tryRetry(0)).filter(Boolean).length;
    expect(granted).toBe(4);
    // 20 s later the window is empty: only the floor is left.
    const later = Array.from({ length: 4 }, () => budget.tryRetry(20_000)).filter(Boolean).length;
    expect(later).toBe(2);
  });
});
