#!/usr/bin/env node
// `npm run rollback [-- --env staging|production]`: every worker of the environment back to the
// version it ran before its latest deployment (mid-rollout: to the version it ran before the
// split), with `wrangler versions deploy <version>@100%`. D1 migrations are not undone: the
// previous code must still work with the newer schema (docs/deploying.md, "Migrations").
import { environmentFrom, environmentWorkers } from './cloudflare/environments.mjs';
import { rollback } from './cloudflare/rollout.mjs';

const env = environmentFrom(process.argv.slice(2));
rollback({ env, workers: environmentWorkers(env) })
  .then((count) => console.log(count === 0 ? `nothing to roll back in ${env}` : `rolled back ${count} workers of ${env}`))
  .catch((error) => {
    console.error(`rollback failed: ${error.message}`);
    process.exit(1);
  });
