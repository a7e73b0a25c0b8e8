// The one way every script reaches wrangler: the project's pinned wrangler, or the one the
// WRANGLER environment variable names (a path). Tests point WRANGLER at a fake that records each
// call and answers as wrangler does (test/support/fake-wrangler.mjs), so the deploy tooling is
// proved offline, without an account.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from './workers.mjs';

/**
 * Local tooling works offline: no telemetry from wrangler, and no download of the `request.cf`
 * sample object (workerd then gives every request a placeholder `cf`, which the suite never needs).
 */
export const wranglerEnv = () => ({ WRANGLER_SEND_METRICS: 'false', CLOUDFLARE_CF_FETCH_ENABLED: 'false', ...process.env });

/**
 * The command and leading arguments that run wrangler. A JavaScript file (the pinned
 * node_modules/wrangler/bin/wrangler.js, or a fake) runs under this Node; anything else is run as
 * it is (a wrangler binary on PATH, say).
 * @returns {{ command: string, args: string[] }}
 */
export function wranglerCommand() {
  const path = process.env.WRANGLER || join(ROOT, 'node_modules', 'wrangler', 'bin', 'wrangler.js');
  return /\.[cm]?js$/.test(path) ? { command: process.execPath, args: [path] } : { command: path, args: [] };
}

/**
 * Runs wrangler to completion. `capture` keeps stdout (for `--json` answers) instead of showing
 * it; `input` is written to its stdin (secrets go that way, never through a file or argv).
 * Resolves with stdout (when captured) and the entries wrangler wrote to its output file
 * (WRANGLER_OUTPUT_FILE_PATH: one JSON object per line, e.g. `{type:"deploy", targets, version_id}`).
 * @param {string[]} args
 * @param {{ capture?: boolean, input?: string, quiet?: boolean }} [options]
 * @returns {Promise<{ stdout: string, outputs: Record<string, unknown>[] }>}
 */
export function callWrangler(args, { capture = false, input, quiet = false } = {}) {
  const { command, args: lead } = wranglerCommand();
  const outputDir = mkdtempSync(join(tmpdir(), 'stratus-wrangler-'));
  const outputFile = join(outputDir, 'output.jsonl');
  return new Promise((resolve, reject) => {
    const child = spawn(command, [...lead, ...args], {
      cwd: ROOT,
      // stdin is never a terminal, so wrangler never stops to ask for confirmation.
      stdio: [input === undefined ? 'ignore' : 'pipe', capture || quiet ? 'pipe' : 'inherit', capture ? 'pipe' : 'inherit'],
      env: { ...wranglerEnv(), WRANGLER_OUTPUT_FILE_PATH: outputFile },
    });
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (chunk) => (stdout += chunk));
    child.stderr?.on('data', (chunk) => (stderr += chunk));
    if (input !== undefined) child.stdin?.end(input);
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      let outputs = [];
      try {
        outputs = readFileSync(outputFile, 'utf8').split('\n').filter(Boolean).map((line) => JSON.parse(line));
      } catch {
        // No output file: this command writes none.
      }
      rmSync(outputDir, { recursive: true, force: true });
      if (code === 0) resolve({ stdout, outputs });
      else {
        const error = new Error(`wrangler ${args.join(' ')} failed (${signal ?? `exit ${code}`})${stderr ? `: ${stderr.trim().split('\n').slice(-3).join(' ')}` : ''}`);
        Object.assign(error, { stdout, stderr });
        reject(error);
      }
    });
  });
}
