// Runs a command to completion, inheriting the terminal; rejects with its exit code.
import { spawn } from 'node:child_process';
import { ROOT } from './workers.mjs';

/**
 * Local tooling works offline: no telemetry from wrangler, and no download of the `request.cf`
 * sample object (workerd then gives every request a placeholder `cf`, which the suite never needs).
 */
export const wranglerEnv = () => ({ WRANGLER_SEND_METRICS: 'false', CLOUDFLARE_CF_FETCH_ENABLED: 'false', ...process.env });

export function run(command, args, options = {}) {
  return new Promise((resolve, reject) => {
    // stdin is not a terminal, so wrangler never stops to ask for confirmation.
    const child = spawn(command, args, { cwd: ROOT, stdio: ['ignore', 'inherit', 'inherit'], env: wranglerEnv(), ...options });
    child.on('error', reject);
    child.on('exit', (code, signal) =>
      code === 0 ? resolve() : reject(new Error(`${command} ${args.join(' ')} failed (${signal ?? `exit ${code}`})`)),
    );
  });
}

export const wrangler = (args, options) => run(process.execPath, [`${ROOT}/node_modules/wrangler/bin/wrangler.js`, ...args], options);
