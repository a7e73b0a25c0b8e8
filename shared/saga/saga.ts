/**
 * The orchestration core of a saga: pure functions `(plan, state, input, now) → state`, no I/O,
 * no clock, no randomness of its own (docs/architecture.md, "pure core, thin shell"). A shell (the OrderSaga
 * Durable Object) loads the state, asks `nextAction`, persists `beginStep` BEFORE it calls a
 * participant and `settleStep` AFTER, and arms an alarm for `wait`. Because both sides of every
 * remote call are persisted, a crash or an eviction anywhere resumes from the log: a step found
 * `running` is simply run again, and the participant dedupes it by its idempotency key.
 *
 * Rules it encodes:
 * - forward steps run in order; a business failure (out of stock, declined) compensates at once;
 * - a transient failure retries with backoff until the deadline, then the saga compensates;
 * - from the pivot on (steps that cannot be undone, e.g. committing stock after a charge) the saga
 *   only goes forward: those steps retry until they succeed;
 * - compensation undoes, in reverse order, every forward step that was attempted, except one
 *   that failed for a business reason (it definitely did nothing); an attempt whose outcome is
 *   unknown is undone too, since it may have taken effect;
 * - compensations retry until they succeed; the last one (`finalCompensation`) closes the saga;
 * - a step that must succeed (past the pivot, or a compensation) and has failed
 *   `stuckAfterAttempts` times becomes STUCK: still retried at the longest backoff, so an outage
 *   heals by itself, but visible and open to an operator. A participant's refusal for good (a
 *   business outcome there) is STUCK at once and parked: retrying would get the same answer,
 *   so only an operator's action (`retryStuck`, `compensateStuck`, `resolveStuck`) moves it.
 */

export interface SagaPlan {
  /** Forward steps in order, each with the step that undoes it, if any. */
  steps: readonly { name: string; compensation?: string }[];
  /** Index of the first forward step that is never compensated: the point of no return. */
  pivot: number;
  /** The step that ends a compensated saga (e.g. marking the order cancelled). */
  finalCompensation: string;
  /** From the start, how long forward steps before the pivot may keep retrying. */
  deadlineMs: number;
  /** Backoff between attempts of a step, forward and compensation alike. */
  retry: { baseDelayMs: number; maxDelayMs: number };
  /** How long one attempt may take before the saga assumes its shell died mid-call. */
  attemptLeaseMs: number;
  /** Failed attempts of a step that must succeed after which the saga is STUCK; default never. */
  stuckAfterAttempts?: number;
}

export type SagaStatus = 'PENDING' | 'COMPENSATING' | 'STUCK' | 'COMPLETED' | 'CANCELLED';
/** The way a saga was going: forward, or undoing. A STUCK saga keeps the one it was stuck in. */
export type SagaDirection = 'PENDING' | 'COMPENSATING';
export type StepStatus = 'pending' | 'running' | 'succeeded' | 'failed' | 'skipped';
export type StepOutcome =
  | { kind: 'ok' }
  /** The participant said no for good (409/422, a declined card): retrying would not help. */
  | { kind: 'business'; error: string }
  /** Maybe later (5xx, 429, timeout, network): retried; `retryAfterMs` if the participant said. */
  | { kind: 'transient'; error: string; retryAfterMs?: number };

export interface StepRecord {
  name: string;
  kind: 'forward' | 'compensation';
  status: StepStatus;
  attempts: number;
  startedAt?: number;
  finishedAt?: number;
  error?: string;
  /** The last outcome seen: tells "failed for a business reason" from "outcome unknown". */
  lastOutcome?: StepOutcome['kind'];
}

export interface SagaState {
  id: string;
  status: SagaStatus;
  createdAt: number;
  deadlineAt: number;
  /** The timeline: forward steps, then the compensations once the saga turns back. */
  steps: StepRecord[];
  /** Index into `steps` of the step to run next; null once the saga has ended. */
  current: number | null;
  /** Nothing runs before this time (backoff, or the lease of an attempt in flight). */
  notBefore: number;
  /** Why the saga compensated. */
  reason?: string;
  /** Set while STUCK: since when, which way it was going, why, and whether it waits for an operator. */
  stuck?: { since: number; from: SagaDirection; reason: string; parked: boolean };
  /** What happened to the saga besides its steps: it got stuck, an operator acted (timeline). */
  history?: SagaEvent[];
}

export interface SagaEvent {
  at: number;
  action: 'stuck' | 'recovered' | 'retry' | 'compensate' | 'resolve';
  note?: string;
}

export type SagaAction =
  | { kind: 'run'; step: StepRecord; index: number }
  | { kind: 'wait'; until: number }
  /** STUCK on a refusal for good: nothing runs until an operator acts. */
  | { kind: 'parked' }
  | { kind: 'done' };

/** Why an operator action was refused (the shell answers 409 with it). */
export class SagaActionRefused extends Error {
  readonly isSagaActionRefused = true;
}

const directionOf = (state: SagaState): SagaDirection => (state.status === 'STUCK' ? (state.stuck?.from ?? 'PENDING') : state.status === 'COMPENSATING' ? 'COMPENSATING' : 'PENDING');
const withEvent = (state: SagaState, event: SagaEvent): SagaEvent[] => [...(state.history ?? []), event];

export const isTerminal = (status: SagaStatus) => status === 'COMPLETED' || status === 'CANCELLED';

export function startSaga(plan: SagaPlan, id: string, now: number): SagaState {
  return {
    id,
    status: 'PENDING',
    createdAt: now,
    deadlineAt: now + plan.deadlineMs,
    steps: plan.steps.map((step) => ({ name: step.name, kind: 'forward', status: 'pending', attempts: 0 })),
    current: 0,
    notBefore: now,
  };
}

/**
 * What to do now. Past the deadline, a saga still before its pivot turns to compensation here,
 * so the deadline is honoured whether the shell woke for a retry or after a crash.
 */
export function nextAction(plan: SagaPlan, state: SagaState, now: number): { state: SagaState; action: SagaAction } {
  if (state.current === null || isTerminal(state.status)) return { state, action: { kind: 'done' } };
  if (state.status === 'STUCK' && state.stuck?.parked) return { state, action: { kind: 'parked' } };
  if (state.status === 'PENDING' && state.current < plan.pivot && now >= state.deadlineAt) {
    state = compensate(plan, state, `deadline of ${plan.deadlineMs} ms passed`, now);
  }
  if (now < state.notBefore) return { state, action: { kind: 'wait', until: state.notBefore } };
  const index = state.current as number;
  return { state, action: { kind: 'run', step: state.steps[index] as StepRecord, index } };
}

/** Record an attempt as started (persist this before calling the participant). */
export function beginStep(plan: SagaPlan, state: SagaState, now: number): SagaState {
  return updateCurrent(state, (step) => ({ ...step, status: 'running', attempts: step.attempts + 1, startedAt: step.startedAt ?? now }), {
    // If the shell dies mid-call, the next wake after the lease runs the step again.
    notBefore: now + plan.attemptLeaseMs,
  });
}

/** Record an attempt's outcome (persist this right after the call returns). */
export function settleStep(plan: SagaPlan, state: SagaState, outcome: StepOutcome, now: number, random: () => number): SagaState {
  const index = state.current;
  if (index === null) return state;
  const step = state.steps[index] as StepRecord;
  if (outcome.kind === 'ok') {
    const done = { ...step, status: 'succeeded' as const, finishedAt: now, error: undefined, lastOutcome: 'ok' as const };
    const steps = replace(state.steps, index, done);
    const direction = directionOf(state);
    // A STUCK saga whose step finally went through goes on the way it was going.
    const base: SagaState =
      state.status === 'STUCK' ? { ...state, status: direction, stuck: undefined, history: withEvent(state, { at: now, action: 'recovered' }) } : state;
    const next = index + 1 < steps.length ? index + 1 : null;
    if (next !== null) return { ...base, steps, current: next, notBefore: now };
    return { ...base, steps, current: null, notBefore: now, status: direction === 'COMPENSATING' ? 'CANCELLED' : 'COMPLETED' };
  }
  const failed = { ...step, error: outcome.error, lastOutcome: outcome.kind };
  if (step.kind === 'forward' && outcome.kind === 'business' && index < plan.pivot) {
    const steps = replace(state.steps, index, { ...failed, status: 'failed', finishedAt: now });
    return compensate(plan, { ...state, steps }, outcome.error, now);
  }
  // Transient, or anything at or past the pivot, or a compensation: try again later.
  // A participant's Retry-After is honoured up to the plan's longest backoff, never for hours.
  const asked = outcome.kind === 'transient' ? Math.min(outcome.retryAfterMs ?? 0, plan.retry.maxDelayMs) : 0;
  const wait = Math.max(backoff(plan, failed.attempts, random), asked);
  // Before the pivot, never sleep past the deadline: wake then, and compensate.
  const capped = state.status === 'PENDING' && index < plan.pivot ? Math.min(now + wait, Math.max(now, state.deadlineAt)) : now + wait;
  const retried = { ...state, steps: replace(state.steps, index, { ...failed, status: 'running' as const }), notBefore: capped };
  // Only a step that must succeed can be stuck: one before the pivot compensates instead.
  const mustSucceed = step.kind === 'compensation' || index >= plan.pivot;
  const refusedForGood = outcome.kind === 'business';
  if (!mustSucceed || !(refusedForGood || failed.attempts >= (plan.stuckAfterAttempts ?? Number.POSITIVE_INFINITY))) return retried;
  const reason = `${step.name}: ${outcome.error}`;
  const stuck = { since: state.stuck?.since ?? now, from: directionOf(state), reason, parked: refusedForGood };
  const history = state.status === 'STUCK' ? state.history : withEvent(state, { at: now, action: 'stuck', note: reason });
  return { ...retried, status: 'STUCK', stuck, ...(history ? { history } : {}) };
}

/** Operator: run a STUCK saga's step again now (once; it is STUCK again if that fails too). */
export function retryStuck(state: SagaState, now: number, note?: string): SagaState {
  if (state.status !== 'STUCK' || !state.stuck) throw new SagaActionRefused(`only a STUCK saga can be retried; this one is ${state.status}`);
  return { ...state, status: state.stuck.from, stuck: undefined, notBefore: now, history: withEvent(state, { at: now, action: 'retry', ...(note ? { note } : {}) }) };
}

/**
 * Operator: turn a STUCK saga back, only where that is safe: it was going forward and its stuck
 * step was refused for good, so that step did nothing and undoing the earlier ones is right. A
 * step whose outcome is unknown (timeouts, 5xx) may have taken effect past the pivot, and a
 * STUCK compensation is already turning back: both are refused.
 */
export function compensateStuck(plan: SagaPlan, state: SagaState, now: number, note?: string): SagaState {
  if (state.status !== 'STUCK' || !state.stuck) throw new SagaActionRefused(`only a STUCK saga can be compensated; this one is ${state.status}`);
  if (state.stuck.from !== 'PENDING') throw new SagaActionRefused('the saga is already compensating; retry or resolve it');
  const step = state.current === null ? undefined : state.steps[state.current];
  if (step?.lastOutcome !== 'business') throw new SagaActionRefused(`${step?.name ?? 'the step'} may have taken effect (its last outcome is not a refusal); compensating is not safe`);
  const reason = `compensated by an operator${note ? `: ${note}` : ''}`;
  const history = withEvent(state, { at: now, action: 'compensate', ...(note ? { note } : {}) });
  return { ...compensate(plan, { ...state, status: 'PENDING', stuck: undefined }, reason, now), history };
}

/**
 * Operator: close a STUCK saga by hand (the operator fixed what the step could not): the stuck
 * step and any left are skipped, and the saga ends the way it was going (COMPLETED forward,
 * CANCELLED when compensating). The shell then records the final status and its event.
 */
export function resolveStuck(state: SagaState, now: number, note?: string): SagaState {
  if (state.status !== 'STUCK' || !state.stuck) throw new SagaActionRefused(`only a STUCK saga can be resolved; this one is ${state.status}`);
  const steps = state.steps.map((step, index): StepRecord =>
    state.current !== null && index >= state.current && step.status !== 'succeeded' ? { ...step, status: 'skipped', finishedAt: now } : step,
  );
  return {
    ...state,
    steps,
    status: state.stuck.from === 'COMPENSATING' ? 'CANCELLED' : 'COMPLETED',
    stuck: undefined,
    current: null,
    notBefore: now,
    history: withEvent(state, { at: now, action: 'resolve', ...(note ? { note } : {}) }),
  };
}

/** Turn back: undo every attempted forward step in reverse order, then close the saga. */
export function compensate(plan: SagaPlan, state: SagaState, reason: string, now: number): SagaState {
  if (state.status !== 'PENDING') return state;
  const steps = state.steps.map((step, index): StepRecord => {
    if (index === state.current && step.status === 'running') return { ...step, status: 'failed', finishedAt: now, error: step.error ?? reason };
    if (step.status === 'pending') return { ...step, status: 'skipped' };
    return step;
  });
  const undo: StepRecord[] = [];
  for (let index = plan.steps.length - 1; index >= 0; index--) {
    const forward = steps[index] as StepRecord;
    const compensation = plan.steps[index]?.compensation;
    const definitelyNothing = forward.status === 'failed' && forward.lastOutcome === 'business';
    if (compensation && forward.attempts > 0 && !definitelyNothing) undo.push(pending(compensation));
  }
  undo.push(pending(plan.finalCompensation));
  return { ...state, status: 'COMPENSATING', reason, steps: [...steps, ...undo], current: steps.length, notBefore: now };
}

/** Exponential backoff with equal jitter: at least half the cap, so a retry is never immediate. */
function backoff(plan: SagaPlan, attempts: number, random: () => number): number {
  const cap = Math.min(plan.retry.maxDelayMs, plan.retry.baseDelayMs * 2 ** Math.max(0, attempts - 1));
  return Math.floor(cap / 2 + random() * (cap / 2));
}

const pending = (name: string): StepRecord => ({ name, kind: 'compensation', status: 'pending', attempts: 0 });

function replace<T>(items: readonly T[], index: number, item: T): T[] {
  const copy = items.slice();
  copy[index] = item;
  return copy;
}

function updateCurrent(state: SagaState, change: (step: StepRecord) => StepRecord, extra: Partial<SagaState>): SagaState {
  if (state.current === null) return state;
  return { ...state, ...extra, steps: replace(state.steps, state.current, change(state.steps[state.current] as StepRecord)) };
}
