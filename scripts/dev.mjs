#!/usr/bin/env node
// `npm run dev`: the whole suite on this machine, nothing to sign up for. Applies local D1
// migrations and seeds demo data for every service, then runs every worker in one `wrangler dev`
// process (gateway first, so it is the one on :8787; service bindings connect the rest).
// Ctrl-C stops everything it started.
import { spawn } from 'node:child_process';
import { prepareLocal } from './prepare-local.mjs';
import { wranglerEnv } from './run.mjs';
import { gatewayConfigPath, PERSIST_DIR, ROOT, serviceWorkers } from './workers.mjs';

const PORT = process.env.PORT ?? '8787';

await prepareLocal();

const configs = [gatewayConfigPath(), ...serviceWorkers().map((service) => service.configPath)];
const args = [
  `${ROOT}/node_modules/wrangler/bin/wrangler.js`,
  'dev',
  ...configs.flatMap((config) => ['-c', config]),
  '--persist-to', PERSIST_DIR,
  '--port', PORT,
  '--ip', '127.0.0.1',
  '--show-interactive-dev-session=false',
];
console.log(`starting ${configs.length} workers; gateway on http://localhost:${PORT}`);
const child = spawn(process.execPath, args, { cwd: ROOT, stdio: 'inherit', env: wranglerEnv() });

// Ctrl-C in a terminal reaches the whole process group; a SIGTERM from a supervisor reaches only
// us, so pass it on. Either way we exit when wrangler has stopped, never leaving it behind.
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(signal, () => {
    if (child.exitCode === null) child.kill(signal);
  });
}
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 0 : 1)));
