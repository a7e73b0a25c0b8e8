import { describe, expect, it } from 'vitest';
import { MemoryBreakerAuthority } from '../../../shared/adapters/memory/memory-breaker-authority';
import type { BreakerAuthority } from '../../../shared/resilience/breaker-authority';
import { BreakerClient } from '../../../shared/resilience/breaker-client';
import { DEFAULT_BREAKER_OPTIONS, windowTotals, type CircuitBreakerOptions } from '../../../shared/resilience/circuit-breaker';

const breaker: CircuitBreakerOptions = { ...DEFAULT_BREAKER_OPTIONS, minimumCalls: 3, failureRateThreshold: 50, openDurationMs: 1_000, halfOpenMaxCalls: 2 };

function setup() {
  let now = 0;
  const authority = new MemoryBreakerAuthority(() => now);
  const isolate = () => new BreakerClient({ breaker, authority: () => authority, reportIntervalMs: 1_000, now: () => now, sleep: async () => undefined });
  return { authority, isolate, clock: () => now, advance: (ms: number) => (now += ms) };
}

const failed = { failed: true, durationMs: 5 };
const fine = { failed: false, durationMs: 5 };

describe('BreakerClient (one isolate’s cache)', () => {
  it('asks the authority once when it starts, then lets calls through while closed without asking again', async () => {
    const { authority, isolate, advance } = setup();
    const client = isolate();
    for (let i = 0; i < 50; i++) {
      expect((await client.acquire()).permitted).toBe(true);
      advance(10);
    }
    expect(authority.calls).toEqual({ current: 0, report: 0, acquireProbe: 1, probeOutcome: 0, cancelProbe: 0 });
  });

  it('trusts a closed view for one open period, then asks again before the next call; reports renew it', async () => {
    const { authority, isolate, advance } = setup();
    const client = isolate();
    await client.acquire();
    advance(999);
    expect(client.acquire()).toEqual({ permitted: true }); // synchronous: no remote call
    advance(1);
    expect(client.acquire()).toBeInstanceOf(Promise);
    expect(authority.calls.acquireProbe).toBe(2);
    // A report answered "closed" renews the view as well.
    advance(900);
    await client.record({ permitted: true }, fine);
    advance(900);
    expect(client.acquire()).toEqual({ permitted: true });
    expect(authority.calls.acquireProbe).toBe(2);
  });

  it('an older answer arriving after a newer one changes nothing: the lease a report renewed holds', async () => {
    const { authority, clock, advance } = setup();
    // The permit request's answer is held back until the report sent after it has been answered.
    let releaseProbe: () => void = () => undefined;
    const held = new Promise<void>((resolve) => (releaseProbe = resolve));
    const slow: BreakerAuthority = {
      current: () => authority.current(),
      report: (options, outcomes) => authority.report(options, outcomes),
      acquireProbe: async (options) => {
        const answer = await authority.acquireProbe(options);
        await held;
        return answer;
      },
      probeOutcome: (options, outcome) => authority.probeOutcome(options, outcome),
      cancelProbe: (options, period) => authority.cancelProbe(options, period),
    };
    const client = new BreakerClient({ breaker, authority: () => slow, reportIntervalMs: 1_000, now: clock, sleep: async () => undefined });
    advance(1_000);
    const permit = client.acquire(); // sent at 1000: its answer would lease "closed" until 2000
    expect(permit).toBeInstanceOf(Promise);
    advance(900);
    await client.record({ permitted: true }, fine); // sent at 1900 and answered first: closed until 2900
    releaseProbe();
    expect(await permit).toEqual({ permitted: true });
    advance(900);
    expect(client.acquire()).toEqual({ permitted: true }); // at 2800, still inside the newer lease
    expect(authority.calls.acquireProbe).toBe(1);
  });

  it('starts refusing at once in a new isolate when the breaker is already open elsewhere', async () => {
    const { authority, isolate } = setup();
    const first = isolate();
    for (let i = 0; i < 3; i++) await first.record({ permitted: true }, failed);
    expect(authority.state.kind).toBe('open');
    const fresh = isolate();
    expect((await fresh.acquire()).permitted).toBe(false);
    expect(fresh.retryAfterMs()).toBe(1_000);
  });


  it('batches successes into one report', async () => {
    const { authority, isolate } = setup();
    const client = isolate();
    const reports = Array.from({ length: 20 }, () => client.record({ permitted: true }, fine));
    await Promise.all(reports);
    expect(reports.filter(Boolean)).toHaveLength(1);
    expect(authority.calls.report).toBe(1);
  });

  it('opens after minimumCalls failures and then refuses locally, with no remote call', async () => {
    const { authority, isolate } = setup();
    const client = isolate();
    for (let i = 0; i < 3; i++) await client.record(await client.acquire(), failed);
    expect(client.cachedView.state).toBe('open');
    const before = { ...authority.calls };
    for (let i = 0; i < 100; i++) expect((await client.acquire()).permitted).toBe(false);
    expect(authority.calls).toEqual(before);
  });

  it('has at most one report on its way: concurrent failures share it', async () => {
    const { authority, isolate } = setup();
    const client = isolate();
    await Promise.all(Array.from({ length: 10 }, () => client.record({ permitted: true }, failed)));
    expect(authority.calls.report).toBeLessThanOrEqual(2);
    expect(authority.state.kind).toBe('open');
  });

  it('admits at most halfOpenMaxCalls probes across isolates, then closes on their success', async () => {
    const { authority, isolate, advance } = setup();
    const isolates = [isolate(), isolate(), isolate()];
    for (let i = 0; i < 3; i++) await isolates[0]!.record({ permitted: true }, failed);
    // The other isolates learn that it opened from the answer to their next report (a cached
    // closed view is stale by at most one report; their own failing calls send one at once).
    await isolates[1]!.record({ permitted: true }, failed);
    await isolates[2]!.record({ permitted: true }, failed);
    expect(isolates.map((client) => client.cachedView.state)).toEqual(['open', 'open', 'open']);
    advance(1_000);
    const permits = await Promise.all(isolates.flatMap((client) => [client.acquire(), client.acquire()]));
    const probes = permits.filter((p) => p.permitted);
    expect(probes).toHaveLength(2);
    expect(probes.every((p) => p.probePeriod === 0)).toBe(true);
    await Promise.all(probes.map((permit, i) => isolates[i % 3]!.record(permit, fine)));
    expect(authority.state.kind).toBe('closed');
  });

  it('after a refused probe, refuses locally for a while instead of asking the authority per call', async () => {
    const { authority, isolate, advance } = setup();
    const client = isolate();
    for (let i = 0; i < 3; i++) await client.record({ permitted: true }, failed);
    advance(1_000);
    const permits = await Promise.all([client.acquire(), client.acquire(), client.acquire()]);
    expect(permits.filter((p) => p.permitted)).toHaveLength(2);
    const asked = authority.calls.acquireProbe;
    for (let i = 0; i < 50; i++) expect((await client.acquire()).permitted).toBe(false);
    expect(authority.calls.acquireProbe).toBe(asked);
    // Past the recheck interval (a tenth of the 1 s open period) it asks again.
    advance(100);
    await client.acquire();
    expect(authority.calls.acquireProbe).toBe(asked + 1);
  });

  it('keeps reporting after a scheduled report found nothing to send (the timer after a failure already sent all)', async () => {
    const { authority, isolate } = setup();
    const client = isolate();
    await client.acquire();
    let fireTimer!: () => void;
    const timer = new Promise<void>((resolve) => (fireTimer = resolve));
    const held = new BreakerClient({ breaker, authority: () => authority, reportIntervalMs: 1_000, sleep: () => timer });
    await held.acquire();
    const scheduled = held.record({ permitted: true }, fine); // schedules a report in 1 s
    await held.record({ permitted: true }, failed); // sends everything now
    fireTimer();
    await scheduled; // the timer finds nothing pending
    for (let i = 0; i < 3; i++) await held.record({ permitted: true }, failed);
    expect(authority.state.kind).toBe('open');
  });

  it('adds outcomes up instead of keeping them: a flood of successes is all counted, in one report', async () => {
    const { authority, isolate } = setup();
    const client = isolate();
    const reports = Array.from({ length: 5_000 }, () => client.record({ permitted: true }, fine)).filter(Boolean);
    await Promise.all(reports);
    expect(reports).toHaveLength(1);
    expect(authority.calls.report).toBe(1);
    expect(authority.state).toMatchObject({ kind: 'closed', window: [expect.objectContaining({ calls: 5_000, failures: 0 })] });
  });

  it('sends the next report when one was never answered, after reportTimeoutMs', async () => {
    let now = 0;
    const authority = new MemoryBreakerAuthority(() => now);
    let answer = true;
    const stuck = {
      acquireProbe: (...args: Parameters<MemoryBreakerAuthority['acquireProbe']>) => authority.acquireProbe(...args),
      report: (...args: Parameters<MemoryBreakerAuthority['report']>) => (answer ? authority.report(...args) : new Promise<never>(() => undefined)),
    } as unknown as MemoryBreakerAuthority;
    const client = new BreakerClient({ breaker, authority: () => stuck, reportIntervalMs: 1_000, reportTimeoutMs: 5_000, now: () => now, sleep: async () => undefined });
    await client.acquire();
    answer = false;
    void client.record({ permitted: true }, failed); // never answered
    answer = true;
    expect(client.record({ permitted: true }, failed)).toBeDefined(); // the scheduled path: nothing sent yet
    now += 5_000;
    await client.record({ permitted: true }, failed);
    // The lost report's outcome is gone; the two after it arrived (each in the bucket of when it ended).
    const state = authority.state;
    expect(state.kind).toBe('closed');
    if (state.kind === 'closed') expect(windowTotals(state.window, now, breaker)).toEqual({ calls: 2, failures: 2, slow: 0 });
  });

  it('hands a probe permit back when asked to', async () => {
    const { authority, isolate, advance } = setup();
    const one = isolate();
    for (let i = 0; i < 3; i++) await one.record({ permitted: true }, failed);
    advance(1_000);
    const permit = await one.acquire();
    expect(permit.probePeriod).toBeDefined();
    await one.cancel(permit);
    expect(authority.calls.cancelProbe).toBe(1);
    expect(authority.state).toMatchObject({ kind: 'half-open', inFlight: 0 });
  });
});
