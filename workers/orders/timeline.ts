import type { SagaState } from '../../shared/saga/saga';

/** A step as docs/api.md shows it: `{name, status, attempts, startedAt, finishedAt, error?}`, times in ISO 8601. */
export interface TimelineStep {
  name: string;
  status: string;
  attempts: number;
  startedAt: string | null;
  finishedAt: string | null;
  error?: string;
  /** An operator's note (entries of the saga's history only). */
  note?: string;
}

const iso = (ms: number | undefined) => (ms === undefined ? null : new Date(ms).toISOString());

/** How the saga's history reads in its timeline: when it got stuck, and what operators did. */
const HISTORY_STATUS = { stuck: 'stuck', recovered: 'recovered', retry: 'retried', compensate: 'compensated', resolve: 'resolved' } as const;

/**
 * The steps in order, then the saga's history (`stuck`, and each operator action as
 * `operator:<action>`), so one timeline tells what ran and who intervened.
 */
export function toTimeline(saga: SagaState): TimelineStep[] {
  const steps = saga.steps.map((step) => ({
    name: step.name,
    status: step.status,
    attempts: step.attempts,
    startedAt: iso(step.startedAt),
    finishedAt: iso(step.finishedAt),
    ...(step.error ? { error: step.error } : {}),
  }));
  const history = (saga.history ?? []).map((event) => ({
    name: event.action === 'stuck' || event.action === 'recovered' ? event.action : `operator:${event.action}`,
    status: HISTORY_STATUS[event.action],
    attempts: 0,
    startedAt: iso(event.at),
    finishedAt: iso(event.at),
    ...(event.note ? { note: event.note } : {}),
  }));
  return [...steps, ...history];
}
