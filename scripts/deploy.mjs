#!/usr/bin/env node
// `npm run deploy`: every worker to Cloudflare, each after the workers it binds to (catalog and
// payments before orders, which calls them; every service before the gateway; deploy-order.mjs).
// For a real deploy it first applies each service's D1 migrations remotely (so new code never
// meets an old schema). `npm run deploy:dry-run` (`--dry-run`) only builds and validates every
// bundle and config, offline: CI runs it.
import { join } from 'node:path';
import { deployTargets } from './deploy-order.mjs';
import { copyGatewayAssets } from './gateway-assets.mjs';
import { wrangler } from './run.mjs';
import { ROOT, serviceWorkers } from './workers.mjs';

const dryRun = process.argv.includes('--dry-run');
const services = serviceWorkers();

if (!dryRun) {
  // A database two workers share (the catalog and its canary) is migrated once.
  const migrated = new Set();
  for (const service of services) {
    for (const db of service.d1) {
      if (migrated.has(db.database_name)) continue;
      migrated.add(db.database_name);
      console.log(`${service.name}: applying migrations to remote D1 ${db.database_name}`);
      await wrangler(['d1', 'migrations', 'apply', db.database_name, '--remote', '-c', service.configPath]);
    }
  }
}

// The gateway uploads its static assets (the ops dashboard with uPlot, Swagger UI's files for
// /docs): the files from node_modules are copied fresh before wrangler uploads (or validates) them.
copyGatewayAssets();
const targets = deployTargets();
for (const target of targets) {
  console.log(`${dryRun ? 'building (dry run)' : 'deploying'} ${target.name}`);
  const args = ['deploy', '-c', target.configPath];
  if (dryRun) args.push('--dry-run', '--outdir', join(ROOT, '.wrangler', 'build', target.name));
  await wrangler(args);
}
console.log(dryRun ? `all ${targets.length} workers build and validate` : `deployed ${targets.length} workers`);
