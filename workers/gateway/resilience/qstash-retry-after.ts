/**
 * `Retry-After` for a call QStash delivered (a `/hooks/*` route) that the gateway refuses itself,
 * e.g. with its bulkhead full. QStash honours `Retry-After` in place of its own backoff, so a fixed
 * `1` would spend every retry within seconds of a burst and dead-letter the message; this hint is
 * QStash's own backoff for the next retry (e^(2.5 (n + 1)) s after n retries: about 12 s, 2.5 min,
 * 30 min, then hours; `Upstash-Retried` says n), spread by a factor of 0.5 to 1.5 so the
 * deliveries refused together do not all come back in the same second. Whole seconds, 1 s to a day.
 */
export function qstashRetryAfterSeconds(upstashRetried: string | null | undefined, random: () => number = Math.random): number {
  const retried = Number(upstashRetried);
  const n = Number.isInteger(retried) && retried >= 0 ? retried : 0;
  const backoffSeconds = Math.min(86_400, Math.exp(2.5 * (n + 1)));
  return Math.min(86_400, Math.max(1, Math.round(backoffSeconds * (0.5 + random()))));
}
