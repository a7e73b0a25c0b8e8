#!/usr/bin/env node
// `npm run deploy [-- --env staging|production] [--gradual]`: every worker of one environment to
// Cloudflare (production unless --env says otherwise). First the preflight
// (cloudflare/preflight.mjs): real database ids, every secret set, HOOKS_BASE_URL the gateway's,
// settings within the account's plans; any refusal names its fix and nothing is changed. Then each
// database's migrations, remotely (so new code never meets an old schema), then the workers, each
// after the workers it binds to (deploy-order.mjs). With --gradual, new versions take traffic in
// steps and go back if the gateway turns unhealthy (cloudflare/rollout.mjs).
//
// `npm run deploy:dry-run` (`--dry-run`) only builds and validates every bundle and config,
// offline, no account needed: CI runs it. Without --env it builds the top level (local
// development's config); with --env, that environment's.
import { join } from 'node:path';
import { applyRemoteMigrations, deployWorkers } from './cloudflare/deploy-steps.mjs';
import { environmentFrom, environmentWorkers, flagValue } from './cloudflare/environments.mjs';
import { planOptions, preflight, preflightWarnings, refuseOn } from './cloudflare/preflight.mjs';
import { gradualRollout } from './cloudflare/rollout.mjs';
import { deployTargets } from './deploy-order.mjs';
import { copyGatewayAssets } from './gateway-assets.mjs';
import { wrangler } from './run.mjs';
import { ROOT } from './workers.mjs';

const argv = process.argv.slice(2);

async function dryRun() {
  const env = environmentFrom(argv, null);
  // The gateway uploads its static assets (the ops dashboard with uPlot, Swagger UI's files for
  // /docs): the files from node_modules are copied fresh before wrangler validates them.
  copyGatewayAssets();
  const targets = env ? environmentWorkers(env) : deployTargets();
  for (const target of targets) {
    console.log(`building (dry run) ${env ? `${target.name} (${env})` : target.name}`);
    await wrangler(['deploy', '-c', target.configPath, '--env', env ?? '', '--dry-run', '--outdir', join(ROOT, '.wrangler', 'build', env ? `${target.name}-${env}` : target.name)]);
  }
  console.log(`all ${targets.length} workers build and validate`);
}

async function deploy() {
  const env = environmentFrom(argv);
  const workers = environmentWorkers(env);
  refuseOn(await preflight({ env, workers, ...planOptions(argv) }));
  for (const warning of preflightWarnings({ env, workers })) console.warn(`warning: ${warning}`);
  await applyRemoteMigrations(workers, env);
  copyGatewayAssets();
  if (!argv.includes('--gradual')) {
    await deployWorkers(workers, env);
    console.log(`deployed ${workers.length} workers to ${env}`);
    return;
  }
  const gatewayUrl = workers.find((w) => w.name === 'gateway')?.vars.GATEWAY_URL;
  if (!gatewayUrl) {
    console.error(`deploy refused: the gateway's URL is not recorded (GATEWAY_URL in [env.${env}.vars] of wrangler.toml), so a gradual rollout cannot check its health\n    fix: run \`npm run setup:cloudflare -- --env ${env}\``);
    process.exit(1);
  }
  const ok = await gradualRollout({
    env,
    workers,
    gatewayUrl: gatewayUrl.replace(/\/+$/, ''),
    steps: (flagValue(argv, 'steps') ?? '10,50,100').split(',').map(Number),
    holdMs: 1000 * Number(flagValue(argv, 'hold-seconds') ?? 60),
    maxErrorRate: Number(flagValue(argv, 'max-error-rate') ?? 0.01),
  });
  if (!ok) {
    console.error(`gradual rollout of ${env} failed its health check: every worker is back on its previous version`);
    process.exit(1);
  }
  console.log(`every worker of ${env} runs the new version`);
}

(argv.includes('--dry-run') ? dryRun() : deploy()).catch((error) => {
  console.error(`deploy failed: ${error.message}`);
  process.exit(1);
});
