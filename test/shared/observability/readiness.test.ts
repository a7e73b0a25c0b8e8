import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { checkReadiness, readinessResponse, type CheckResult, type ReadinessCheck } from '../../../shared/observability/readiness';

const up: ReadinessCheck = async () => undefined;

describe('checkReadiness', () => {
  it('is ready when every check answers', async () => {
    expect(await checkReadiness({ db: up, cache: up }, 1_000)).toEqual({
      status: 'ready',
      checks: { db: { status: 'up' }, cache: { status: 'up' } },
    });
  });

  it('is ready with no checks at all', async () => {
    expect(await checkReadiness({}, 1_000)).toEqual({ status: 'ready', checks: {} });
  });

  it('reports a check that throws as down with its message, and the others as up', async () => {
    const report = await checkReadiness(
      {
        db: async () => {
          throw new Error('connection refused');
        },
        cache: up,
      },
      1_000,
    );
    expect(report).toEqual({
      status: 'not_ready',
      checks: { db: { status: 'down', error: 'connection refused' }, cache: { status: 'up' } },
    });
  });

  it('reports a check that throws synchronously as down', async () => {
    const report = await checkReadiness(
      {
        db: () => {
          throw new Error('sync failure');
        },
      },
      1_000,
    );
    expect(report.checks.db).toEqual({ status: 'down', error: 'sync failure' });
  });

  it('reports a rejection with a non-Error reason as down with that reason as text', async () => {
    const report = await checkReadiness({ db: () => Promise.reject('nope') }, 1_000);
    expect(report.checks.db).toEqual({ status: 'down', error: 'nope' });
  });

  it('reports a check that rejects with no reason at all as down instead of failing the report', async () => {
    const report = await checkReadiness({ db: () => Promise.reject(undefined), nil: () => Promise.reject(null), cache: up }, 1_000);
    expect(report).toEqual({
      status: 'not_ready',
      checks: { db: { status: 'down', error: 'undefined' }, nil: { status: 'down', error: 'null' }, cache: { status: 'up' } },
    });
  });

  it('lists nested results as name.dep and is not ready when a nested dependency is down', async () => {
    const report = await checkReadiness(
      {
        catalog: async () => ({ db: { status: 'up' }, search: { status: 'down', error: 'timeout' } }),
        orders: async () => ({ db: { status: 'up' } }),
      },
      1_000,
    );
    expect(report).toEqual({
      status: 'not_ready',
      checks: {
        catalog: { status: 'up' },
        'catalog.db': { status: 'up' },
        'catalog.search': { status: 'down', error: 'timeout' },
        orders: { status: 'up' },
        'orders.db': { status: 'up' },
      },
    });
  });

  it('keeps the nested results a failing check attaches to its error', async () => {
    class NotReady extends Error {
      constructor(readonly checks: Record<string, CheckResult>) {
        super('/ready answered 503');
      }
    }
    const report = await checkReadiness(
      {
        catalog: async () => {
          throw new NotReady({ db: { status: 'down', error: 'D1 unavailable' } });
        },
      },
      1_000,
    );
    expect(report.checks).toEqual({
      catalog: { status: 'down', error: '/ready answered 503' },
      'catalog.db': { status: 'down', error: 'D1 unavailable' },
    });
  });

  it('does not abort the signal of a check that answers in time', async () => {
    let seen: AbortSignal | undefined;
    await checkReadiness(
      {
        db: async (signal) => {
          seen = signal;
        },
      },
      1_000,
    );
    expect(seen?.aborted).toBe(false);
  });

  describe('with a check that never answers', () => {
    beforeEach(() => {
      vi.useFakeTimers();
    });
    afterEach(() => {
      vi.useRealTimers();
    });

    it('cuts it at timeoutMs, reports it down and aborts its signal', async () => {
      let seen: AbortSignal | undefined;
      const hanging: ReadinessCheck = (signal) => {
        seen = signal;
        return new Promise(() => undefined);
      };
      let settled = false;
      const pending = checkReadiness({ slow: hanging, db: up }, 250).then((report) => {
        settled = true;
        return report;
      });

      await vi.advanceTimersByTimeAsync(249);
      expect(settled).toBe(false);
      expect(seen?.aborted).toBe(false);

      await vi.advanceTimersByTimeAsync(1);
      expect(settled).toBe(true);
      expect(seen?.aborted).toBe(true);
      expect(await pending).toEqual({
        status: 'not_ready',
        checks: { slow: { status: 'down', error: 'no answer within 250 ms' }, db: { status: 'up' } },
      });
    });

    it('leaves no timer behind once every check has answered', async () => {
      await checkReadiness({ db: up, cache: up }, 5_000);
      expect(vi.getTimerCount()).toBe(0);
    });
  });
});

describe('readinessResponse', () => {
  it('answers 200 when ready and 503 when not, never cached', async () => {
    const ready = readinessResponse({ status: 'ready', checks: { db: { status: 'up' } } });
    expect(ready.status).toBe(200);
    expect(ready.headers.get('cache-control')).toBe('no-store');
    expect(await ready.json()).toEqual({ status: 'ready', checks: { db: { status: 'up' } } });

    const notReady = readinessResponse({ status: 'not_ready', checks: { db: { status: 'down', error: 'x' } } });
    expect(notReady.status).toBe(503);
    expect(notReady.headers.get('cache-control')).toBe('no-store');
  });
});
