import type { D1Migration } from 'cloudflare:test';
import type { CatalogBindings } from '../workers/catalog/env';
import type { GatewayBindings } from '../workers/gateway/env';
import type { LedgerBindings } from '../workers/ledger/env';
import type { NotificationsBindings } from '../workers/notifications/env';
import type { OrdersBindings } from '../workers/orders/env';
import type { PaymentsBindings } from '../workers/payments/env';
import type { UsersBindings } from '../workers/users/env';

// The `env` tests see. Each vitest project runs one worker, so only that worker's bindings exist
// at run time: the catalog, payments, users and notifications projects have DB (each its own) and
// TEST_MIGRATIONS, the gateway project the rest.
declare global {
  namespace Cloudflare {
    interface Env extends CatalogBindings, PaymentsBindings, GatewayBindings, UsersBindings, NotificationsBindings, OrdersBindings, LedgerBindings {
      TEST_MIGRATIONS: D1Migration[];
      TEST_CATALOG_DB: D1Database;
      TEST_CATALOG_MIGRATIONS: D1Migration[];
      TEST_PAYMENTS_DB: D1Database;
      TEST_PAYMENTS_MIGRATIONS: D1Migration[];
      /** The gateway's signing key for this run, so service tests can call as the gateway does. */
      TEST_SERVICE_TOKEN_PRIVATE_JWK: string;
      /** The orders service's signing key for this run (issuer stratus-orders), for calls as the saga makes them. */
      TEST_ORDERS_SERVICE_TOKEN_PRIVATE_JWK: string;
      /** scripts/seed/users.sql, so a users test can log in as the seeded demo user. */
      TEST_USERS_SEED_SQL: string;
      TEST_USERS_DB: D1Database;
      TEST_USERS_MIGRATIONS: D1Migration[];
      TEST_ORDERS_DB: D1Database;
      TEST_ORDERS_MIGRATIONS: D1Migration[];
      TEST_NOTIFICATIONS_DB: D1Database;
      TEST_NOTIFICATIONS_MIGRATIONS: D1Migration[];
      TEST_LEDGER_DB: D1Database;
      TEST_LEDGER_MIGRATIONS: D1Migration[];
      /** The notifications project's QStash stand-in (test/support/recording-qstash-worker.mjs). */
      RECORDING_QSTASH: Fetcher;
      /** The users service's signing key for this run, so gateway tests can mint access tokens. */
      TEST_ACCESS_TOKEN_PRIVATE_JWK: string;
    }
  }
}
export {};
