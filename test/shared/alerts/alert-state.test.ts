import { describe, expect, it } from 'vitest';
import { initialStatus, stepAlert, type AlertStatus } from '../../../shared/alerts/alert-state';

const on = (value = 1) => ({ active: true, value });
const off = { active: false, value: 0 };

/** Runs verdicts at the given times through the state machine; the states and notifications seen. */
function run(forMs: number, steps: [number, { active: boolean; value: number | null }][]) {
  let status: AlertStatus = initialStatus(0);
  const seen: string[] = [];
  for (const [at, verdict] of steps) {
    const step = stepAlert(status, verdict, at, forMs);
    status = step.status;
    seen.push(step.notify ? `${status.state}!` : status.state);
  }
  return { seen, status };
}

describe('alert state', () => {
  it('goes pending, fires once the condition has held for `for`, and notifies only firing and resolved', () => {
    const { seen, status } = run(1_000, [[100, on()], [600, on()], [1_100, on()], [2_000, on()], [2_500, off], [3_000, off]]);
    expect(seen).toEqual(['pending', 'pending', 'firing!', 'firing', 'resolved!', 'resolved']);
    expect(status).toMatchObject({ state: 'resolved', since: 2_500, activeSince: 100 });
  });

  it('drops back to inactive, silently, when the condition stops before `for`', () => {
    expect(run(1_000, [[0, on()], [500, off], [900, on()], [1_500, on()]]).seen).toEqual(['pending', 'inactive', 'pending', 'pending']);
  });

  it('fires on the first evaluation when `for` is 0, and again after resolving', () => {
    expect(run(0, [[0, on()], [10, off], [20, on()]]).seen).toEqual(['firing!', 'resolved!', 'firing!']);
  });

  it('keeps the last measured value, and keeps it through an evaluation that measured none', () => {
    const first = stepAlert(initialStatus(0), on(0.25), 0, 0).status;
    expect(first.value).toBe(0.25);
    expect(stepAlert(first, { active: true, value: null }, 10, 0).status.value).toBe(0.25);
  });
});
