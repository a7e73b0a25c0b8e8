import { z } from 'zod';

/**
 * Alert rules, as configuration (`ALERT_RULES`, JSON). Each rule names one condition over the
 * suite's metric totals (the same numbers `/metrics` renders), a `for` duration the condition
 * must hold before the alert fires (pending meanwhile, as Prometheus and Grafana do), and for the
 * rate-like kinds the window the rate is taken over. Durations are seconds and may be fractions,
 * so tests run the same rules time-scaled.
 */
const seconds = z.number().min(0).max(86_400);
const common = {
  /** The alert's name: `alertname` in the notification, `rule` in `/_ops/alerts`. */
  name: z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, 'letters, digits, _ . - (at most 64)'),
  /** How long the condition must hold before the alert fires; 0 fires on the first evaluation that sees it. */
  for: seconds.default(0),
  /** Free text for the notification's summary. */
  summary: z.string().max(300).optional(),
};
const windowed = {
  /** The rate or percentile is taken over the increase of the totals across this many seconds. */
  windowSeconds: z.number().gt(0).max(86_400).default(300),
  /** Fewer requests than this in the window and the condition is not met (one failure in two is no ratio). */
  minRequests: z.number().int().min(1).default(10),
};

export const alertRuleSchema = z.discriminatedUnion('kind', [
  /** An upstream's circuit breaker not closed (open, or half-open and probing); `upstream` unset: any. */
  z.strictObject({ kind: z.literal('breaker_open'), upstream: z.string().min(1).optional(), ...common }),
  /** Dead letters: QStash's dead-letter queue plus outbox rows parked after their last attempt. */
  z.strictObject({ kind: z.literal('dlq_not_empty'), ...common }),
  /** Sagas in STUCK: they could neither finish nor compensate and wait for an operator. */
  z.strictObject({ kind: z.literal('saga_stuck'), ...common }),
  /** The share of a gateway route's answers that were 5xx over the window, above `threshold` (0..1). */
  z.strictObject({ kind: z.literal('route_5xx_ratio'), route: z.string().min(1), threshold: z.number().min(0).max(1), ...windowed, ...common }),
  /** A gateway route's p99 latency over the window, above `thresholdSeconds`. */
  z.strictObject({ kind: z.literal('route_p99'), route: z.string().min(1), thresholdSeconds: z.number().gt(0), ...windowed, ...common }),
  /** Any step of the synthetic user's check failed within the window. */
  z.strictObject({ kind: z.literal('synthetic_failed'), windowSeconds: z.number().gt(0).max(86_400).default(180), ...common }),
]);
export type AlertRule = z.infer<typeof alertRuleSchema>;

export const alertRulesSchema = z
  .array(alertRuleSchema)
  .max(50)
  .refine((rules) => new Set(rules.map((rule) => rule.name)).size === rules.length, { message: 'rule names must be unique' });

/**
 * The rules when `ALERT_RULES` is unset: what an operator of this suite wants to hear about.
 * Routes are the gateway's route labels (`/api/orders/*`), the same as in `http_requests_total`.
 */
export const DEFAULT_ALERT_RULES: AlertRule[] = alertRulesSchema.parse([
  { name: 'breaker-open', kind: 'breaker_open', for: 30, summary: 'A circuit breaker has been open for 30 s: an upstream is failing.' },
  { name: 'dead-letters', kind: 'dlq_not_empty', summary: 'Deliveries or outbox rows gave up: see /_ops/dlq and /_ops/outbox.' },
  { name: 'saga-stuck', kind: 'saga_stuck', summary: 'An order saga is STUCK: see /_ops/sagas?status=STUCK.' },
  { name: 'orders-5xx', kind: 'route_5xx_ratio', route: '/api/orders/*', threshold: 0.05, windowSeconds: 300, for: 120, summary: 'Over 5% of order requests fail.' },
  { name: 'catalog-p99', kind: 'route_p99', route: '/api/catalog/*', thresholdSeconds: 1, windowSeconds: 300, for: 120, summary: 'Catalog p99 over 1 s.' },
  { name: 'synthetic-check', kind: 'synthetic_failed', windowSeconds: 180, summary: "The synthetic user's check failed." },
]);
