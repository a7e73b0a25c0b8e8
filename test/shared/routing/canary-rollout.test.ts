import { describe, expect, it } from 'vitest';
import { abortRollout, breach, checkIntervalMs, judgeRollout, rolloutBodySchema, startRollout, type RolloutPlan } from '../../../shared/routing/canary-rollout';

const plan: RolloutPlan = { steps: [10, 50, 100], holdMs: 10_000, maxErrorRate: 0.05, maxP99Ms: 500, minRequests: 20 };
const start = () => startRollout({ route: 'catalog', canary: 'v2', stable: 'v1', plan }, 0);
const healthy = { requests: 100, errors: 1, p99Ms: 120 };

describe('canary rollout', () => {
  it('starts at the first step, in a new window, checking a tenth of the hold later', () => {
    const { state, effects } = start();
    expect(state).toMatchObject({ status: 'running', step: 0, canaryPercent: 10 });
    expect(effects).toEqual({ setCanaryPercent: 10, newWindow: true, checkAt: 1_000 });
  });

  it('waits out the hold, then promotes step by step and completes after the last', () => {
    let { state } = start();
    expect(judgeRollout(state, healthy, 5_000).effects).toEqual({ checkAt: 6_000 });
    ({ state } = judgeRollout(state, healthy, 10_000));
    expect(state).toMatchObject({ step: 1, canaryPercent: 50, stepStartedAt: 10_000 });
    ({ state } = judgeRollout(state, healthy, 20_000));
    expect(state.canaryPercent).toBe(100);
    const done = judgeRollout(state, healthy, 30_000);
    expect(done.state.status).toBe('completed');
    expect(done.effects).toEqual({});
    expect(done.state.transitions.map((t) => t.event)).toEqual(['started', 'promoted', 'promoted', 'completed']);
  });

  it('rolls back to 0 the moment the error rate or p99 crosses its bound, mid-hold', () => {
    const errors = judgeRollout(start().state, { requests: 40, errors: 3, p99Ms: 100 }, 2_000);
    expect(errors.state).toMatchObject({ status: 'rolled-back', canaryPercent: 0, endedAt: 2_000 });
    expect(errors.effects).toEqual({ setCanaryPercent: 0 });
    expect(errors.state.transitions.at(-1)!.reason).toMatch(/^error rate 0\.075 over 40 requests/);
    const slow = judgeRollout(start().state, { requests: 40, errors: 0, p99Ms: 900 }, 2_000);
    expect(slow.state.transitions.at(-1)!.reason).toBe('p99 900 ms is above 500 ms');
  });

  it('does not judge fewer than minRequests, and holds a step past its end until there are enough (recorded once)', () => {
    expect(breach(plan, { requests: 5, errors: 5, p99Ms: 9_000 })).toBeNull();
    const { state } = start();
    const held = judgeRollout(state, { requests: 3, errors: 0, p99Ms: 10 }, 10_000);
    expect(held.state).toMatchObject({ status: 'running', step: 0, stepHeld: true });
    const again = judgeRollout(held.state, { requests: 4, errors: 0, p99Ms: 10 }, 11_000);
    expect(again.state.transitions.filter((t) => t.event === 'held')).toHaveLength(1);
    expect(judgeRollout(again.state, healthy, 12_000).state.canaryPercent).toBe(50);
  });

  it('is aborted by an operator back to 0; an ended rollout changes no more', () => {
    const aborted = abortRollout(start().state, 1_000, 'bad logs');
    expect(aborted.state).toMatchObject({ status: 'aborted', canaryPercent: 0 });
    expect(judgeRollout(aborted.state, { requests: 100, errors: 100, p99Ms: 1 }, 2_000).effects).toEqual({});
    expect(abortRollout(aborted.state, 3_000).state).toBe(aborted.state);
  });

  it('checks between every 50 ms and every second', () => {
    expect(checkIntervalMs({ ...plan, holdMs: 100 })).toBe(50);
    expect(checkIntervalMs({ ...plan, holdMs: 3_600_000 })).toBe(1_000);
  });

  it('accepts only plans that can run: steps strictly up to 100, bounds in range', () => {
    expect(rolloutBodySchema.safeParse({ steps: [5, 100], holdSeconds: 0.25, maxErrorRate: 0, maxP99Ms: 1 }).data).toMatchObject({ minRequests: 1 });
    for (const body of [{ steps: [50, 50, 100] }, { steps: [10, 90] }, { steps: [100], holdSeconds: 0.05 }, { steps: [100], maxErrorRate: -0.1 }]) {
      expect(rolloutBodySchema.safeParse({ holdSeconds: 1, maxErrorRate: 0.1, maxP99Ms: 100, ...body }).success).toBe(false);
    }
  });
});
