import { z } from 'zod';

/**
 * An automated canary rollout, as a pure state machine (the Durable Object that runs it is a thin
 * shell: workers/gateway/traffic/canary-rollout-object.ts). The canary's share of traffic goes up
 * step by step; each step is held for `holdMs` while the canary's own requests are watched, and
 * the moment its error rate or p99 latency over the step so far crosses the bound, the share goes
 * back to 0 and the rollout ends, rolled back. A step held with fewer than `minRequests` canary
 * requests is held longer rather than promoted on no evidence. Time is passed in, never read.
 */

export const MAX_ROLLOUT_STEPS = 20;

/** `POST /_ops/rollouts/:route`'s body (holdSeconds may be fractional: tests scale time down). */
export const rolloutBodySchema = z
  .object({
    steps: z
      .array(z.number().int().min(1).max(100))
      .min(1)
      .max(MAX_ROLLOUT_STEPS)
      .superRefine((steps, ctx) => {
        steps.forEach((step, i) => {
          if (i > 0 && step <= steps[i - 1]!) ctx.addIssue({ code: 'custom', path: [i], message: 'steps go strictly up (percent of traffic on the canary)' });
        });
        if (steps.at(-1) !== 100) ctx.addIssue({ code: 'custom', path: [steps.length - 1], message: 'the last step is 100 (the canary takes all traffic)' });
      }),
    holdSeconds: z.number().min(0.1).max(86_400),
    maxErrorRate: z.number().min(0).max(1),
    maxP99Ms: z.number().int().min(1).max(600_000),
    /** Canary requests a step needs before it is judged healthy (default 1). */
    minRequests: z.number().int().min(0).max(1_000_000).default(1),
    /** Which version is the canary; needed only when the route has more than one besides the stable one. */
    version: z.string().min(1).max(64).optional(),
  })
  .strict();

export type RolloutBody = z.infer<typeof rolloutBodySchema>;

export interface RolloutPlan {
  steps: number[];
  holdMs: number;
  maxErrorRate: number;
  maxP99Ms: number;
  minRequests: number;
}

/** The canary's requests since its current step began. */
export interface CanaryWindow {
  requests: number;
  /** Answers with a 5xx status (the canary's own, or the gateway's for it: timeout, open breaker). */
  errors: number;
  /** Null with no requests. */
  p99Ms: number | null;
}

export type RolloutStatus = 'running' | 'completed' | 'rolled-back' | 'aborted';
export type RolloutEvent = 'started' | 'promoted' | 'held' | 'completed' | 'rolled-back' | 'aborted';

export interface RolloutTransition {
  at: number;
  event: RolloutEvent;
  /** The canary's share (percent) before and after. */
  from: number;
  to: number;
  reason: string;
  window?: CanaryWindow;
}

export interface RolloutState {
  route: string;
  canary: string;
  stable: string;
  plan: RolloutPlan;
  status: RolloutStatus;
  /** Index into plan.steps of the step in force. */
  step: number;
  /** The canary's share now, percent. */
  canaryPercent: number;
  startedAt: number;
  stepStartedAt: number;
  /** Whether this step was already held past holdMs for want of traffic (recorded once per step). */
  stepHeld: boolean;
  endedAt?: number;
  /** Every change, oldest first: at most two per step plus start and end. */
  transitions: RolloutTransition[];
}

/** What the shell must do after a transition. */
export interface RolloutEffects {
  /** Move the canary's share to this percent (through the route's weights). */
  setCanaryPercent?: number;
  /** Start a new window: remember the canary's totals now, to judge the step against. */
  newWindow?: boolean;
  /** Be woken at this time (epoch ms) to judge again; absent once the rollout ended. */
  checkAt?: number;
}

/**
 * How often a step is judged while held: a tenth of the hold, between 50 ms and 1 s, so a canary
 * that breaks is rolled back within about a second (one MetricsStore read per check).
 */
export const checkIntervalMs = (plan: RolloutPlan): number => Math.min(1_000, Math.max(50, plan.holdMs / 10));

const nextCheck = (state: RolloutState, now: number): number => Math.min(now + checkIntervalMs(state.plan), Math.max(now, state.stepStartedAt + state.plan.holdMs));

export function startRollout(input: { route: string; canary: string; stable: string; plan: RolloutPlan }, now: number): { state: RolloutState; effects: RolloutEffects } {
  const first = input.plan.steps[0]!;
  const state: RolloutState = {
    ...input,
    status: 'running',
    step: 0,
    canaryPercent: first,
    startedAt: now,
    stepStartedAt: now,
    stepHeld: false,
    transitions: [{ at: now, event: 'started', from: 0, to: first, reason: `step 1 of ${input.plan.steps.length}` }],
  };
  return { state, effects: { setCanaryPercent: first, newWindow: true, checkAt: nextCheck(state, now) } };
}

/** Why the window breaks the plan's bounds, or null when it does not (or has too few requests to say). */
export function breach(plan: RolloutPlan, window: CanaryWindow): string | null {
  if (window.requests === 0 || window.requests < plan.minRequests) return null;
  const errorRate = window.errors / window.requests;
  if (errorRate > plan.maxErrorRate) return `error rate ${errorRate.toFixed(3)} over ${window.requests} requests is above ${plan.maxErrorRate}`;
  if (window.p99Ms !== null && window.p99Ms > plan.maxP99Ms) return `p99 ${Math.round(window.p99Ms)} ms is above ${plan.maxP99Ms} ms`;
  return null;
}

/**
 * Judges the step in force on the canary's window so far: roll back at once on a breach; once
 * held for holdMs, promote to the next step (or complete after the last), unless the window has
 * fewer than minRequests requests, then hold on. Nothing happens to a rollout that has ended.
 */
export function judgeRollout(state: RolloutState, window: CanaryWindow, now: number): { state: RolloutState; effects: RolloutEffects } {
  if (state.status !== 'running') return { state, effects: {} };
  const broken = breach(state.plan, window);
  if (broken) {
    return {
      state: end(state, now, 'rolled-back', { at: now, event: 'rolled-back', from: state.canaryPercent, to: 0, reason: broken, window }),
      effects: { setCanaryPercent: 0 },
    };
  }
  if (now < state.stepStartedAt + state.plan.holdMs) return { state, effects: { checkAt: nextCheck(state, now) } };
  if (window.requests < state.plan.minRequests) {
    if (state.stepHeld) return { state, effects: { checkAt: now + checkIntervalMs(state.plan) } };
    const held: RolloutState = {
      ...state,
      stepHeld: true,
      transitions: [...state.transitions, { at: now, event: 'held', from: state.canaryPercent, to: state.canaryPercent, reason: `${window.requests} canary requests, fewer than minRequests ${state.plan.minRequests}; holding until there are enough`, window }],
    };
    return { state: held, effects: { checkAt: now + checkIntervalMs(state.plan) } };
  }
  const last = state.step === state.plan.steps.length - 1;
  if (last) {
    return { state: end(state, now, 'completed', { at: now, event: 'completed', from: state.canaryPercent, to: state.canaryPercent, reason: 'the last step held within bounds', window }), effects: {} };
  }
  const to = state.plan.steps[state.step + 1]!;
  const promoted: RolloutState = {
    ...state,
    step: state.step + 1,
    canaryPercent: to,
    stepStartedAt: now,
    stepHeld: false,
    transitions: [...state.transitions, { at: now, event: 'promoted', from: state.canaryPercent, to, reason: `step ${state.step + 2} of ${state.plan.steps.length}`, window }],
  };
  return { state: promoted, effects: { setCanaryPercent: to, newWindow: true, checkAt: nextCheck(promoted, now) } };
}

/** An operator stops a running rollout: the canary's share goes back to 0. */
export function abortRollout(state: RolloutState, now: number, note?: string): { state: RolloutState; effects: RolloutEffects } {
  if (state.status !== 'running') return { state, effects: {} };
  return {
    state: end(state, now, 'aborted', { at: now, event: 'aborted', from: state.canaryPercent, to: 0, reason: note ? `aborted by an operator: ${note}` : 'aborted by an operator' }),
    effects: { setCanaryPercent: 0 },
  };
}

function end(state: RolloutState, now: number, status: Exclude<RolloutStatus, 'running'>, transition: RolloutTransition): RolloutState {
  return { ...state, status, canaryPercent: transition.to, endedAt: now, transitions: [...state.transitions, transition] };
}
