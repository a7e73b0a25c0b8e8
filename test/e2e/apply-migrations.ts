import { applyD1Migrations } from 'cloudflare:test';
import { env } from 'cloudflare:workers';

// Every service database the suite binds, migrated exactly as `npm run dev` migrates it.
await applyD1Migrations(env.TEST_CATALOG_DB, env.TEST_CATALOG_MIGRATIONS);
await applyD1Migrations(env.TEST_PAYMENTS_DB, env.TEST_PAYMENTS_MIGRATIONS);
await applyD1Migrations(env.TEST_USERS_DB, env.TEST_USERS_MIGRATIONS);
await applyD1Migrations(env.TEST_ORDERS_DB, env.TEST_ORDERS_MIGRATIONS);
await applyD1Migrations(env.TEST_NOTIFICATIONS_DB, env.TEST_NOTIFICATIONS_MIGRATIONS);
await applyD1Migrations(env.TEST_LEDGER_DB, env.TEST_LEDGER_MIGRATIONS);
// The demo user (demo@example.com, admin), as npm run dev seeds it.
const seed = env.TEST_USERS_SEED_SQL.split('\n').filter((line) => !line.trim().startsWith('--')).join('\n');
for (const statement of seed.split(';').map((s) => s.trim()).filter(Boolean)) await env.TEST_USERS_DB.prepare(statement).run();
