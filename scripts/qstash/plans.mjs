// What depends on the QStash plan a deployment is on, so the local server can behave like the one
// the code will meet: `--plan free|paid` (or QSTASH_PLAN) picks the row.
//
// - defaultRetries: retries of a message published without Upstash-Retries. Free: 3 (QStash's
//   documented default). Paid: 5, what paid plans allow by default; with QStash's backoff 3
//   retries reach the DLQ after ~33 minutes, 5 after ~30 hours.
// - dlqRetentionMs: how long a dead letter is kept. Upstash's pricing lists days per plan; the
//   numbers here (3 days free, 7 paid) are the shorter readings of it, the stricter side: an
//   operator who redrives within them redrives in production too.
export const PLANS = {
  free: { defaultRetries: 3, dlqRetentionMs: 3 * 86_400_000 },
  paid: { defaultRetries: 5, dlqRetentionMs: 7 * 86_400_000 },
};

/** Deduplication ids are kept 90 days (QStash's documented window), whatever the plan. */
export const DEDUP_RETENTION_MS = 90 * 86_400_000;

/** The plan's row; throws for a name that is not one. */
export function planNamed(name = 'free') {
  const plan = PLANS[name];
  if (!plan) throw new Error(`unknown QStash plan "${name}": one of ${Object.keys(PLANS).join(', ')}`);
  return plan;
}
