import { applyD1Migrations } from 'cloudflare:test';
import { env } from 'cloudflare:workers';

// The same migrations `npm run dev` and a deploy apply (migrations/ledger), run before each file.
await applyD1Migrations(env.DB, env.TEST_MIGRATIONS);
