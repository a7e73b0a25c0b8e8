import type { SagaState } from '../../shared/saga/saga';

/** A step as docs/api.md shows it: `{name, status, attempts, startedAt, finishedAt, error?}`, times in ISO 8601. */
export interface TimelineStep {
  name: string;
  status: string;
  attempts: number;
  startedAt: string | null;
  finishedAt: string | null;
  error?: string;
}

const iso = (ms: number | undefined) => (ms === undefined ? null : new Date(ms).toISOString());

export function toTimeline(saga: SagaState): TimelineStep[] {
  return saga.steps.map((step) => ({
    name: step.name,
    status: step.status,
    attempts: step.attempts,
    startedAt: iso(step.startedAt),
    finishedAt: iso(step.finishedAt),
    ...(step.error ? { error: step.error } : {}),
  }));
}
