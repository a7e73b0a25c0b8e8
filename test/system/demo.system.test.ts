import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';

/**
 * `npm run demo` as a newcomer runs it, end to end: with `--start` it brings up its own suite
 * (workerd and the local QStash, seeded as `npm run dev` seeds it), walks every step and stops
 * the suite. Each step checks its own promise and the exit code says whether all held, so this
 * test fails whenever any pattern the demo shows stops behaving as the README says.
 */

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

function runDemo(): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    // --start: never the developer's own `npm run dev` that may be on :8787.
    const child = spawn(process.execPath, ['scripts/demo.mjs', '--start'], { cwd: ROOT, env: { ...process.env, NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    child.on('error', reject);
    child.on('exit', (code) => resolve({ code, output }));
  });
}

it('walks every step of the demo against its own suite and exits 0', { timeout: 120_000 }, async () => {
  const { code, output } = await runDemo();
  // On failure the demo's own output says which step and why.
  expect(output, output).toContain('All 8 steps behaved as described.');
  expect(code, output).toBe(0);
  for (let step = 1; step <= 8; step++) expect(output).toContain(`[${step}/8]`);
  expect(output).not.toContain('✗');
});
