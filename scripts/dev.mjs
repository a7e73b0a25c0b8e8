#!/usr/bin/env node
// `npm run dev`: the whole suite on this machine, nothing to sign up for. Applies local D1
// migrations and seeds demo data for every service, starts the local QStash (in this process, on
// :8080 or QSTASH_PORT, with the topics and queues of shared/events/topology.json; skipped when
// QSTASH_URL points elsewhere) and the local OTLP receiver (:4318 or OTEL_PORT), then runs every
// worker in one `wrangler dev` process (gateway first, so it is the one on :8787; service bindings
// connect the rest), with the legacy monolith (scripts/legacy-monolith.mjs, on :8790 or
// LEGACY_PORT) behind the gateway's strangler-fig route.
// Ctrl-C stops everything it started.
import { spawn } from 'node:child_process';
import { devAdminToken, startDevCrons } from './dev-crons.mjs';
import { copyGatewayAssets } from './gateway-assets.mjs';
import { ensureOtelDevVars, startDevOtel } from './otel/dev-otel.mjs';
import { legacyOriginPools, startLegacyMonolith } from './legacy-monolith.mjs';
import { prepareLocal } from './prepare-local.mjs';
import { startDevQStash } from './qstash/dev-qstash.mjs';
import { wranglerCommand, wranglerEnv } from './wrangler-cli.mjs';
import { gatewayConfigPath, PERSIST_DIR, ROOT, serviceWorkers } from './workers.mjs';

const PORT = process.env.PORT ?? '8787';

await prepareLocal();
copyGatewayAssets();
const qstash = await startDevQStash();
// Every worker's spans and log lines go to a local OTLP receiver (scripts/otel-receiver.mjs, on
// :4318 or OTEL_PORT), which the gateway's /_ops/traces and /_ops/logs read.
ensureOtelDevVars();
const otel = await startDevOtel();

// The old application the gateway strangles: every path no route claims goes to it.
const legacy = await startLegacyMonolith({ port: Number(process.env.LEGACY_PORT ?? 8790) });
console.log(`legacy monolith on ${legacy.url} (the gateway's fallback; /api/users/* is carved out to the users worker)`);

const configs = [gatewayConfigPath(), ...serviceWorkers().map((service) => service.configPath)];
const wranglerCli = wranglerCommand();
const args = [
  ...wranglerCli.args,
  'dev',
  ...configs.flatMap((config) => ['-c', config]),
  '--persist-to', PERSIST_DIR,
  '--port', PORT,
  '--ip', '127.0.0.1',
  '--show-interactive-dev-session=false',
  // The monolith's address, for this run (a deployment sets ORIGIN_POOLS as a var).
  '--var', `ORIGIN_POOLS:${legacyOriginPools(legacy.url)}`,
];
console.log(`starting ${configs.length} workers; gateway on http://localhost:${PORT}`);
// wrangler runs in its own process group so that stopping it stops everything under it
// (wrangler's CLI, workerd, esbuild), whoever asked us to stop.
const child = spawn(wranglerCli.command, args, { cwd: ROOT, stdio: 'inherit', env: wranglerEnv(), detached: true });
// `wrangler dev` fires no cron triggers: each worker's scheduled handler runs on its own
// schedule through the gateway (dev-crons.mjs), so local behaves as deployed.
const crons = startDevCrons({ baseUrl: `http://127.0.0.1:${PORT}`, adminToken: devAdminToken() });
const GRACE_MS = 5_000;
let stopping = false;

function stop(signal) {
  crons.stop();
  if (stopping || child.exitCode !== null) return;
  stopping = true;
  try {
    process.kill(-child.pid, signal);
  } catch {
    return; // already gone
  }
  // wrangler does not always stop on SIGTERM; after a grace period, end the group for sure.
  setTimeout(() => {
    try {
      process.kill(-child.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }, GRACE_MS).unref();
}

for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, () => stop(signal));
child.on('exit', (code, signal) => {
  // Leave nothing behind even if wrangler itself exited first and left workerd running.
  try {
    process.kill(-child.pid, 'SIGKILL');
  } catch {
    // group already empty
  }
  // The local QStash lives in this process; close it (bounded) so no delivery is cut mid-write.
  const exit = () => process.exit(stopping ? 0 : (code ?? (signal ? 1 : 0)));
  Promise.race([Promise.all([qstash.close(), otel.close(), legacy.close()]), new Promise((resolve) => setTimeout(resolve, 1_000))]).then(exit, exit);
});
