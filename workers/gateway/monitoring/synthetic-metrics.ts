import type { MetricDefinition } from '../../../shared/metrics/prometheus-text';

/** The synthetic user's steps, in order; `check` is the whole run. */
export const SYNTHETIC_STEPS = ['login', 'catalog', 'order', 'complete', 'check'] as const;
export type SyntheticStep = (typeof SYNTHETIC_STEPS)[number];

/** Wider than request buckets: the `complete` step waits for a saga across three services. */
export const SYNTHETIC_BUCKETS_SECONDS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30] as const;

export const SYNTHETIC_METRIC_DEFINITIONS: Record<string, MetricDefinition> = {
  synthetic_check_total: {
    type: 'counter',
    help: "The synthetic user's steps (login, catalog, order, complete, and check for the whole run) by result (success, failure).",
  },
  synthetic_check_duration_seconds: {
    type: 'histogram',
    help: "How long each step of the synthetic user's check took, failed ones included.",
  },
};
