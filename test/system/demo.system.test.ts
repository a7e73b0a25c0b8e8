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

interface DemoRun {
  /** Resolves when the demo exits, with its exit code and everything it printed. */
  done: Promise<{ code: number | null; output: string }>;
  /** Stops the demo and the suite it started (its whole process group), if it still runs. */
  stop(): void;
}

function runDemo(): DemoRun {
  // --start: never the developer's own `npm run dev` that may be on :8787. Its own process group
  // (detached), so stopping it also stops the workerd and QStash processes it started.
  const child = spawn(process.execPath, ['scripts/demo.mjs', '--start'], {
    cwd: ROOT,
    env: { ...process.env, NO_COLOR: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  const done = new Promise<{ code: number | null; output: string }>((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', (code) => resolve({ code, output }));
  });
  const signalGroup = (signal: NodeJS.Signals) => {
    try {
      process.kill(-child.pid!, signal);
    } catch {
      // The group is gone already.
    }
  };
  return {
    done,
    stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      signalGroup('SIGTERM');
      // Whatever ignores SIGTERM is killed after 5 s; unref'd, so it never holds the test run open.
      setTimeout(() => signalGroup('SIGKILL'), 5_000).unref();
    },
  };
}

it('walks every step of the demo against its own suite and exits 0', { timeout: 120_000 }, async ({ onTestFinished }) => {
  const demo = runDemo();
  // Also when the test times out (its body is then abandoned, not unwound): no demo or suite left running.
  onTestFinished(() => demo.stop());
  const { code, output } = await demo.done;
  // On failure the demo's own output says which step and why.
  expect(output, output).toContain('All 9 steps behaved as described.');
  expect(code, output).toBe(0);
  for (let step = 1; step <= 9; step++) expect(output).toContain(`[${step}/9]`);
  expect(output).not.toContain('✗');
});
