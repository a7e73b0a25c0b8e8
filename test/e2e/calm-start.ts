import { runInDurableObject } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { asGateway } from '../support/service-token';

/**
 * Before each gateway test file: no chaos on any service, every breaker's window empty and the
 * catalog's version weights cleared, and the alert evaluator stopped until a file arms it again
 * (left running it reads every service's metrics five times a second for the rest of the run). The project's files share one runtime (vitest.config.mts),
 * and these Durable Objects outlive a file; a file resetting them only after its own tests left
 * the next file whatever an earlier one, or a failed one, had set. Other shared state (metrics,
 * limits, sagas) is read by tests only as changes or by their own ids.
 */
const chaosSwitches: [Fetcher, string, string][] = [
  [env.CATALOG, 'catalog.internal', 'catalog'],
  // The canary runs the catalog's code: its switch takes the catalog's ops token.
  [env.CATALOG_CANARY, 'catalog-canary.internal', 'catalog'],
  [env.PAYMENTS, 'payments.internal', 'payments'],
];
for (const [service, host, audience] of chaosSwitches) {
  await service.fetch(`https://${host}/_chaos`, { method: 'DELETE', headers: await asGateway(audience, null, { scope: 'ops' }) });
}
for (const upstream of ['catalog', 'catalog@v2', 'payments', 'users', 'orders', 'ledger', 'notifications']) {
  await env.BREAKERS.get(env.BREAKERS.idFromName(upstream)).reset();
}
await env.ROUTE_WEIGHTS.get(env.ROUTE_WEIGHTS.idFromName('catalog')).clear();
await runInDurableObject(env.ALERTS.get(env.ALERTS.idFromName('global')), (_evaluator, state) => state.storage.deleteAlarm());
