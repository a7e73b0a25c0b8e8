import { runInDurableObject } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { DEFAULT_BREAKER_OPTIONS, type CircuitBreakerOptions } from '../../../shared/resilience/circuit-breaker';

// openDurationMs 0: the next acquire after opening is already half-open, so no test waits on a clock.
const options: CircuitBreakerOptions = { ...DEFAULT_BREAKER_OPTIONS, minimumCalls: 4, failureRateThreshold: 50, openDurationMs: 0, halfOpenMaxCalls: 3 };
const breaker = (upstream: string) => env.BREAKERS.get(env.BREAKERS.idFromName(upstream));
const failures = (n: number) => ({ calls: n, failures: n, slow: 0 });

describe('CircuitBreakerObject (the authority for one upstream)', () => {
  it('opens once minimumCalls outcomes at the failure threshold are reported, and persists that', async () => {
    const catalog = breaker('catalog-opens');
    expect(await catalog.report(options, failures(3))).toEqual({ state: 'closed' });
    expect((await catalog.report(options, failures(1))).state).toBe('open');
    const snapshot = await catalog.snapshot({ ...options, openDurationMs: 60_000 });
    expect(snapshot).toMatchObject({ state: 'open', transitions: { 'closed->open': 1 } });
    // What a restarted object would load: the state and the transition counts, from storage.
    const stored = await runInDurableObject(catalog, async (_instance, state) => ({
      state: await state.storage.get<{ kind: string }>('state'),
      transitions: await state.storage.get<Record<string, number>>('transitions'),
    }));
    expect(stored).toMatchObject({ state: { kind: 'open' }, transitions: { 'closed->open': 1 } });
  });

  it('grants at most halfOpenMaxCalls probe permits across 20 concurrent callers', async () => {
    const payments = breaker('payments-probes');
    await payments.report(options, failures(4));
    const answers = await Promise.all(Array.from({ length: 20 }, () => payments.acquireProbe(options)));
    const granted = answers.filter((a) => a.permitted);
    expect(granted).toHaveLength(3);
    expect(new Set(granted.map((a) => a.period)).size).toBe(1);
  });

  it('closes after every probe succeeded and re-opens on a failed probe', async () => {
    const upstream = breaker('closes');
    await upstream.report(options, failures(4));
    const permits = await Promise.all([1, 2, 3].map(() => upstream.acquireProbe(options)));
    const period = permits[0]!.period!;
    await upstream.probeOutcome(options, { failed: false, durationMs: 1, period });
    await upstream.probeOutcome(options, { failed: false, durationMs: 1, period });
    expect((await upstream.probeOutcome(options, { failed: false, durationMs: 1, period })).state).toBe('closed');

    await upstream.report(options, failures(4));
    const probe = await upstream.acquireProbe(options);
    expect((await upstream.probeOutcome(options, { failed: true, durationMs: 1, period: probe.period! })).state).toBe('open');
    expect((await upstream.snapshot(options)).transitions).toMatchObject({ 'closed->open': 2, 'open->half-open': 2, 'half-open->closed': 1, 'half-open->open': 1 });
  });

  it('takes a cancelled probe permit back, so another caller may probe', async () => {
    const upstream = breaker('cancels');
    await upstream.report({ ...options, halfOpenMaxCalls: 1 }, failures(4));
    const one = { ...options, halfOpenMaxCalls: 1 };
    const first = await upstream.acquireProbe(one);
    expect(first.permitted).toBe(true);
    expect((await upstream.acquireProbe(one)).permitted).toBe(false);
    await upstream.cancelProbe(one, first.period!);
    expect((await upstream.acquireProbe(one)).permitted).toBe(true);
  });
});
