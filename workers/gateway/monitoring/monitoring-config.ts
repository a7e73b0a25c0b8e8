import { z } from 'zod';
import { alertRulesSchema, DEFAULT_ALERT_RULES } from '../../../shared/alerts/alert-rules';
import { isWebhookSecret } from '../../../shared/alerts/alert-notification';
import { envConfig } from '../../../shared/validation/env-config';

const json = z
  .string()
  .optional()
  .transform((text, ctx) => {
    if (!text?.trim()) return undefined;
    try {
      return JSON.parse(text) as unknown;
    } catch {
      ctx.addIssue({ code: 'custom', message: 'not valid JSON' });
      return z.NEVER;
    }
  });
const optionalText = z.string().optional().transform((value) => value?.trim() || undefined);
const optionalUrl = optionalText.pipe(z.url({ protocol: /^https?$/ }).optional());
const milliseconds = (fallback: number, min: number) => z.coerce.number().int().min(min).default(fallback);

/**
 * The alerts' and the synthetic user's settings (docs/alerts.md). Apart from the gateway's
 * other configuration (config.ts) so that a bad alert rule is reported by the alerts, and never
 * stops the gateway from answering traffic.
 */
const monitoringSchema = z.object({
  // JSON array of rules (shared/alerts/alert-rules.ts); unset or empty: DEFAULT_ALERT_RULES.
  ALERT_RULES: json.pipe(alertRulesSchema.optional()).transform((rules) => rules ?? DEFAULT_ALERT_RULES),
  // How often the AlertEvaluator object evaluates every rule (its alarm); 30 s, as often as a scrape.
  ALERT_EVAL_INTERVAL_MS: milliseconds(30_000, 10),
  // Where firing and resolved notifications go; unset: alerts are only shown (/_ops/alerts).
  ALERT_WEBHOOK_URL: optionalUrl,
  // Secret: signs every notification (Standard Webhooks, `whsec_` + base64 key).
  ALERT_WEBHOOK_SECRET: optionalText.refine((secret) => secret === undefined || isWebhookSecret(secret), {
    message: 'must be whsec_ followed by a base64 key of at least 24 bytes (e.g. "whsec_$(openssl rand -base64 32)")',
  }),
  // The gateway's public address, for links in notifications (generatorURL, externalURL).
  ALERT_EXTERNAL_URL: optionalUrl,
  // The synthetic user (monitoring/synthetic-check.ts): whom it signs in as; unset: no check runs.
  SYNTHETIC_EMAIL: optionalText,
  SYNTHETIC_PASSWORD: optionalText,
  // Unset: the check calls this gateway in-process; set: it calls that gateway over HTTP.
  SYNTHETIC_BASE_URL: optionalUrl,
  // How long the check waits for its order to reach COMPLETED.
  SYNTHETIC_ORDER_TIMEOUT_MS: milliseconds(20_000, 100),
}).refine((config) => !config.ALERT_WEBHOOK_URL || config.ALERT_WEBHOOK_SECRET, {
  path: ['ALERT_WEBHOOK_SECRET'],
  message: 'is required when ALERT_WEBHOOK_URL is set: every notification is signed',
});

export type MonitoringConfig = z.infer<typeof monitoringSchema>;

export const monitoringConfig: (env: object) => MonitoringConfig = envConfig(monitoringSchema, 'gateway (alerts and synthetic check)');
