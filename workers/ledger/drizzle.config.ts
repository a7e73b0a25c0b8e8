import { defineConfig } from 'drizzle-kit';

// `npm run db:generate` turns schema.ts into SQL migrations that wrangler applies
// (`wrangler d1 migrations apply`), locally by `npm run dev` and remotely on deploy.
export default defineConfig({
  dialect: 'sqlite',
  schema: './workers/ledger/schema.ts',
  out: './migrations/ledger',
});
