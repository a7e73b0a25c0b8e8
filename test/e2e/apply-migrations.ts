import { applyD1Migrations } from 'cloudflare:test';
import { env } from 'cloudflare:workers';

// Every service database the suite binds, migrated exactly as `npm run dev` migrates it.
await applyD1Migrations(env.TEST_CATALOG_DB, env.TEST_CATALOG_MIGRATIONS);
await applyD1Migrations(env.TEST_PAYMENTS_DB, env.TEST_PAYMENTS_MIGRATIONS);
