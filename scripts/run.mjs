// Runs a command to completion, inheriting the terminal; rejects with its exit code.
import { spawn } from 'node:child_process';
import { wranglerCommand, wranglerEnv } from './wrangler-cli.mjs';
import { ROOT } from './workers.mjs';

export { wranglerEnv };

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

/** wrangler (the pinned one, or WRANGLER's: wrangler-cli.mjs), inheriting the terminal. */
export const wrangler = (args, options) => {
  const { command, args: lead } = wranglerCommand();
  return run(command, [...lead, ...args], options);
};
