import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  beginStep,
  compensateStuck,
  nextAction,
  resolveStuck,
  retryStuck,
  SagaActionRefused,
  settleStep,
  startSaga,
  type SagaPlan,
  type SagaState,
  type StepOutcome,
} from '../../../shared/saga/saga';

// The order saga's shape: reserve → charge → confirm, confirm past the point of no return.
const plan: SagaPlan = {
  steps: [{ name: 'reserve', compensation: 'release' }, { name: 'charge', compensation: 'refund' }, { name: 'confirm' }],
  pivot: 2,
  finalCompensation: 'cancel',
  deadlineMs: 60_000,
  retry: { baseDelayMs: 100, maxDelayMs: 5_000 },
  attemptLeaseMs: 10_000,
};
const ok: StepOutcome = { kind: 'ok' };
const half = () => 0.5;

/**
 * Runs the saga as a shell would, answering each attempt with `outcomeOf(step, attempt)`. With
 * `operatorRetries`, an operator answers a parked saga with "retry now" (else the run stops there).
 */
function drive(
  outcomeOf: (step: string, attempt: number) => StepOutcome,
  options: { start?: number; maxSteps?: number; plan?: SagaPlan; operatorRetries?: boolean; stopWhen?: (state: SagaState) => boolean } = {},
) {
  const p = options.plan ?? plan;
  let now = options.start ?? 0;
  let state = startSaga(p, 'ord_1', now);
  const calls: string[] = [];
  for (let i = 0; i < (options.maxSteps ?? 500); i++) {
    if (options.stopWhen?.(state)) return { state, calls, now };
    const next = nextAction(p, state, now);
    state = next.state;
    if (next.action.kind === 'parked' && options.operatorRetries) {
      state = retryStuck(state, now);
      continue;
    }
    if (next.action.kind === 'done' || next.action.kind === 'parked') return { state, calls, now };
    if (next.action.kind === 'wait') {
      now = next.action.until;
      continue;
    }
    state = beginStep(p, state, now);
    const step = state.steps[next.action.index]!;
    calls.push(step.name);
    state = settleStep(p, state, outcomeOf(step.name, step.attempts), now + 10, half);
    now += 10;
  }
  throw new Error(`saga did not end: ${JSON.stringify(state)}`);
}

const names = (state: SagaState) => state.steps.map((s) => `${s.name}:${s.status}`);

describe('saga core', () => {
  it('completes when every step succeeds, in order, once each', () => {
    const { state, calls } = drive(() => ok);
    expect(state.status).toBe('COMPLETED');
    expect(calls).toEqual(['reserve', 'charge', 'confirm']);
  });

  it('a declined charge compensates at once: release, then cancel; the charge itself is not refunded', () => {
    const { state, calls } = drive((step) => (step === 'charge' ? { kind: 'business', error: 'card_declined' } : ok));
    expect(state.status).toBe('CANCELLED');
    expect(calls).toEqual(['reserve', 'charge', 'release', 'cancel']);
    expect(names(state)).toEqual(['reserve:succeeded', 'charge:failed', 'confirm:skipped', 'release:succeeded', 'cancel:succeeded']);
    expect(state.reason).toBe('card_declined');
  });

  it('out of stock cancels without releasing anything', () => {
    const { state, calls } = drive((step) => (step === 'reserve' ? { kind: 'business', error: 'out-of-stock' } : ok));
    expect(calls).toEqual(['reserve', 'cancel']);
    expect(state.status).toBe('CANCELLED');
  });

  it('retries a transient failure with growing backoff, then goes on', () => {
    const { state, calls } = drive((step, attempt) => (step === 'charge' && attempt < 3 ? { kind: 'transient', error: '503' } : ok));
    expect(state.status).toBe('COMPLETED');
    expect(calls).toEqual(['reserve', 'charge', 'charge', 'charge', 'confirm']);
    expect(state.steps[1]!.attempts).toBe(3);
  });

  it("honours a participant's Retry-After only up to the longest backoff", () => {
    let state = startSaga(plan, 'ord_1', 0);
    state = beginStep(plan, state, 0);
    state = settleStep(plan, state, { kind: 'transient', error: '429', retryAfterMs: 3_600_000 }, 0, half);
    expect(state.notBefore).toBe(plan.retry.maxDelayMs);
    state = beginStep(plan, state, state.notBefore);
    state = settleStep(plan, state, { kind: 'transient', error: '429', retryAfterMs: 1_000 }, 10_000, half);
    expect(state.notBefore).toBeGreaterThanOrEqual(11_000);
  });

  it('past the deadline compensates, refunding a charge whose outcome is unknown', () => {
    const { state, calls, now } = drive((step) => (step === 'charge' ? { kind: 'transient', error: 'timeout' } : ok));
    expect(state.status).toBe('CANCELLED');
    expect(calls.slice(-3)).toEqual(['refund', 'release', 'cancel']);
    expect(state.reason).toMatch(/deadline/);
    // It gave up at the deadline, not a backoff later.
    expect(now).toBeLessThan(plan.deadlineMs + 1_000);
  });

  it('after the pivot never compensates: confirm retries past the deadline until it succeeds', () => {
    const { state, now } = drive((step, attempt) => (step === 'confirm' && attempt < 30 ? { kind: 'transient', error: '503' } : ok));
    expect(state.status).toBe('COMPLETED');
    expect(now).toBeGreaterThan(plan.deadlineMs);
  });

  describe('STUCK', () => {
    const bounded: SagaPlan = { ...plan, stuckAfterAttempts: 5 };
    const confirmFails = (step: string): StepOutcome => (step === 'confirm' ? { kind: 'transient', error: '503' } : ok);

    it('past the pivot, a step still failing at the bound is STUCK, keeps retrying, and recovers by itself', () => {
      const stuck = drive(confirmFails, { plan: bounded, stopWhen: (state) => state.status === 'STUCK' });
      expect(stuck.state.status).toBe('STUCK');
      expect(stuck.state.stuck).toMatchObject({ from: 'PENDING', parked: false, reason: 'confirm: 503' });
      expect(stuck.state.history).toEqual([expect.objectContaining({ action: 'stuck', note: 'confirm: 503' })]);
      expect(nextAction(bounded, stuck.state, stuck.now).action.kind).toBe('wait');

      const { state } = drive((step, attempt) => (step === 'confirm' && attempt < 8 ? { kind: 'transient', error: '503' } : ok), { plan: bounded });
      expect(state.status).toBe('COMPLETED');
      expect(state.history?.map((event) => event.action)).toEqual(['stuck', 'recovered']);
    });

    it('before the pivot a failing step is never STUCK: it compensates at the deadline', () => {
      const { state } = drive((step) => (step === 'charge' ? { kind: 'transient', error: 'timeout' } : ok), { plan: bounded });
      expect(state.status).toBe('CANCELLED');
      expect(state.history).toBeUndefined();
    });

    it('a compensation refused for good is STUCK at once and parked: nothing runs until an operator acts', () => {
      const { state, calls } = drive(
        (step) => (step === 'charge' ? { kind: 'business', error: 'declined' } : step === 'release' ? { kind: 'business', error: 'reservation-committed' } : ok),
        { plan: bounded },
      );
      expect(state.status).toBe('STUCK');
      expect(state.stuck).toMatchObject({ from: 'COMPENSATING', parked: true });
      expect(calls.filter((c) => c === 'release')).toHaveLength(1);
      expect(nextAction(bounded, state, 10 ** 12).action).toEqual({ kind: 'parked' });
    });

    it('resolve closes a STUCK saga the way it was going, skipping what is left, with the note', () => {
      const forward = drive(confirmFails, { plan: bounded, stopWhen: (state) => state.status === 'STUCK' }).state;
      const resolved = resolveStuck(forward, 1_000_000, 'stock committed by hand');
      expect(resolved.status).toBe('COMPLETED');
      expect(names(resolved)).toEqual(['reserve:succeeded', 'charge:succeeded', 'confirm:skipped']);
      expect(resolved.history?.at(-1)).toEqual({ at: 1_000_000, action: 'resolve', note: 'stock committed by hand' });
      expect(nextAction(bounded, resolved, 1_000_001).action.kind).toBe('done');
    });

    it('compensate is allowed only for a forward step refused for good, and then undoes what ran', () => {
      const unknown = drive(confirmFails, { plan: bounded, stopWhen: (state) => state.status === 'STUCK' }).state;
      expect(() => compensateStuck(bounded, unknown, 1)).toThrow(SagaActionRefused);

      const refused = drive((step) => (step === 'confirm' ? { kind: 'business', error: 'reservation-released' } : ok), { plan: bounded }).state;
      expect(refused.stuck).toMatchObject({ from: 'PENDING', parked: true });
      const turned = compensateStuck(bounded, refused, 2, 'refund it');
      expect(turned.status).toBe('COMPENSATING');
      expect(turned.steps.filter((step) => step.kind === 'compensation').map((step) => step.name)).toEqual(['refund', 'release', 'cancel']);
      expect(turned.history?.at(-1)).toMatchObject({ action: 'compensate', note: 'refund it' });
    });

    it('operator actions on a saga that is not STUCK are refused', () => {
      const done = drive(() => ok).state;
      expect(() => retryStuck(done, 1)).toThrow(SagaActionRefused);
      expect(() => resolveStuck(done, 1)).toThrow(SagaActionRefused);
    });
  });

  it('compensations retry until they succeed', () => {
    const { state, calls } = drive((step, attempt) => {
      if (step === 'charge') return { kind: 'business', error: 'declined' };
      if (step === 'release' && attempt < 5) return { kind: 'transient', error: '503' };
      return ok;
    });
    expect(state.status).toBe('CANCELLED');
    expect(calls.filter((c) => c === 'release')).toHaveLength(5);
  });

  it('a step left running by a crash runs again after its lease, as another attempt', () => {
    let state = startSaga(plan, 'ord_1', 0);
    state = beginStep(plan, state, 0); // persisted before the call; then the process dies
    const early = nextAction(plan, state, 5_000);
    expect(early.action).toEqual({ kind: 'wait', until: plan.attemptLeaseMs });
    const resumed = nextAction(plan, state, plan.attemptLeaseMs);
    expect(resumed.action.kind).toBe('run');
    expect(beginStep(plan, resumed.state, plan.attemptLeaseMs).steps[0]!.attempts).toBe(2);
  });

  it('for any outcomes, ends COMPLETED with every forward step done, or CANCELLED with every attempted step undone in reverse', () => {
    const outcome = fc.oneof(
      fc.constant<StepOutcome>(ok),
      fc.constant<StepOutcome>({ kind: 'business', error: 'no' }),
      fc.constant<StepOutcome>({ kind: 'transient', error: 'later' }),
    );
    fc.assert(
      fc.property(fc.array(outcome, { minLength: 1, maxLength: 40 }), (script) => {
        let i = 0;
        // Compensations and post-pivot steps eventually succeed (a participant comes back).
        // A refusal there parks the saga STUCK; the operator's "retry now" goes on with it.
        const { state } = drive((step, attempt) => (attempt > 20 ? ok : (script[i++ % script.length] ?? ok)), { operatorRetries: true });
        const forward = state.steps.filter((s) => s.kind === 'forward');
        const undo = state.steps.filter((s) => s.kind === 'compensation');
        if (state.status === 'COMPLETED') {
          expect(forward.every((s) => s.status === 'succeeded')).toBe(true);
          expect(undo).toEqual([]);
        } else {
          expect(state.status).toBe('CANCELLED');
          expect(forward[2]!.attempts).toBe(0); // never past the pivot
          const expected = [...forward.slice(0, 2)]
            .map((s, index) => ({ s, index }))
            .filter(({ s }) => s.attempts > 0 && !(s.status === 'failed' && s.lastOutcome === 'business'))
            .reverse()
            .map(({ index }) => plan.steps[index]!.compensation);
          expect(undo.map((s) => s.name)).toEqual([...expected, 'cancel']);
          expect(undo.every((s) => s.status === 'succeeded')).toBe(true);
        }
      }),
      { numRuns: 300 },
    );
  });
});
