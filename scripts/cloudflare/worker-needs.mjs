// What each worker needs from a deployment beyond its wrangler.toml: the secrets it must hold and
// the vars setup:cloudflare writes. One table, read by setup (what to set) and by the deploy's
// preflight (what must be there), so the two never disagree.

/** Workers that publish events through their outbox (and the gateway, for /_ops/dlq): QSTASH_URL, QSTASH_TOKEN. */
export const QSTASH_PUBLISHERS = ['gateway', 'orders', 'payments', 'notifications', 'ledger'];
/** Workers that consume QStash deliveries: the signing keys and HOOKS_BASE_URL. */
export const QSTASH_CONSUMERS = ['orders', 'catalog', 'catalog-canary', 'notifications'];
/** Who signs service tokens with its own key (issuer), and so holds SERVICE_TOKEN_PRIVATE_JWK. */
export const SERVICE_TOKEN_SIGNERS = { gateway: 'stratus-gateway', orders: 'stratus-orders' };

/**
 * The secrets worker `name` must hold. QStash's only when the environment uses QStash (its
 * QSTASH_URL var is set): without it events stay in the outboxes, which is a working deployment.
 * ALERT_WEBHOOK_SECRET only when the gateway notifies (its ALERT_WEBHOOK_URL var is set): every
 * notification is signed. The synthetic user's SYNTHETIC_EMAIL / SYNTHETIC_PASSWORD are optional
 * (without them the check does not run), so never required here.
 * @param {string} name the worker's folder name, or `gateway`
 * @param {{ qstash: boolean, alertWebhook?: boolean }} options
 */
export function requiredSecrets(name, { qstash, alertWebhook = false }) {
  const secrets = [];
  if (name === 'gateway' && alertWebhook) secrets.push('ALERT_WEBHOOK_SECRET');
  if (name === 'gateway') secrets.push('ADMIN_TOKEN');
  if (name in SERVICE_TOKEN_SIGNERS) secrets.push('SERVICE_TOKEN_PRIVATE_JWK');
  if (name === 'users') secrets.push('ACCESS_TOKEN_PRIVATE_JWK');
  if (name === 'payments') secrets.push('CARD_FINGERPRINT_KEY');
  if (qstash && QSTASH_PUBLISHERS.includes(name)) secrets.push('QSTASH_TOKEN');
  if (qstash && QSTASH_CONSUMERS.includes(name)) secrets.push('QSTASH_CURRENT_SIGNING_KEY', 'QSTASH_NEXT_SIGNING_KEY');
  return secrets;
}
