import { applyD1Migrations } from 'cloudflare:test';
import { env } from 'cloudflare:workers';

// The orders database and the participants' (catalog, payments), migrated as `npm run dev` does.
await applyD1Migrations(env.DB, env.TEST_MIGRATIONS);
await applyD1Migrations(env.TEST_CATALOG_DB, env.TEST_CATALOG_MIGRATIONS);
await applyD1Migrations(env.TEST_PAYMENTS_DB, env.TEST_PAYMENTS_MIGRATIONS);
