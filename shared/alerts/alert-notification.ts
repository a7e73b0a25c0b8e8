import { Webhook } from 'standardwebhooks';
import type { AlertRule } from './alert-rules';
import type { AlertStatus } from './alert-state';

/**
 * The webhook body: Alertmanager's webhook payload (version 4), one alert per notification, so
 * any receiver that takes Alertmanager's webhooks (a chat bridge, an incident tool) takes it
 * unchanged. Labels carry the rule's name and kind; annotations its summary and value.
 */
export function alertPayload(rule: AlertRule, status: AlertStatus, kind: 'firing' | 'resolved', options: { externalUrl: string }): string {
  const labels: Record<string, string> = { alertname: rule.name, kind: rule.kind };
  if ('route' in rule) labels.route = rule.route;
  if (rule.kind === 'breaker_open' && rule.upstream) labels.upstream = rule.upstream;
  const annotations: Record<string, string> = { summary: rule.summary ?? `${rule.name} is ${kind}` };
  if (status.value !== undefined) annotations.value = String(status.value);
  const startsAt = new Date(status.activeSince ?? status.since).toISOString();
  return JSON.stringify({
    version: '4',
    groupKey: `{}:{alertname="${rule.name}"}`,
    truncatedAlerts: 0,
    status: kind,
    receiver: 'stratus-alerts',
    groupLabels: { alertname: rule.name },
    commonLabels: labels,
    commonAnnotations: annotations,
    externalURL: options.externalUrl,
    alerts: [
      {
        status: kind,
        labels,
        annotations,
        startsAt,
        // Alertmanager's "not yet ended" is the zero time.
        endsAt: kind === 'resolved' ? new Date(status.since).toISOString() : '0001-01-01T00:00:00Z',
        generatorURL: `${options.externalUrl}/_ops/alerts`,
        fingerprint: rule.name,
      },
    ],
  });
}

/**
 * The headers that sign a webhook body as the Standard Webhooks specification says
 * (standardwebhooks.com, the scheme Svix and others use): `webhook-id` (the message id, the same
 * on every retry so a receiver can drop duplicates), `webhook-timestamp` (Unix seconds, so a
 * receiver refuses old replays) and `webhook-signature`: `v1,` + base64 HMAC-SHA256 of
 * `<id>.<timestamp>.<body>` under the secret (`whsec_` + base64 key). A receiver verifies with
 * any Standard Webhooks library (`new Webhook(secret).verify(body, headers)`) or the same three
 * lines by hand. Signed with the spec's reference library rather than by hand.
 */
export function signedHeaders(secret: string, messageId: string, body: string, at: Date): Record<string, string> {
  return {
    'content-type': 'application/json',
    'webhook-id': messageId,
    'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
    'webhook-signature': new Webhook(secret).sign(messageId, at, body),
  };
}

/** A Standard Webhooks secret the library accepts (`whsec_` + base64 of at least 24 bytes). */
export function isWebhookSecret(secret: string): boolean {
  try {
    new Webhook(secret);
    return /^whsec_[A-Za-z0-9+/]{32,}={0,2}$/.test(secret);
  } catch {
    return false;
  }
}
