// Runs several npm scripts at once and prints each one's output whole when it ends (so two
// runs' lines never interleave), in the order named; exits non-zero if any failed. `npm test` uses
// it for the shared/ tests on Bun and on Deno: each is mostly its runtime starting and
// transforming, so side by side they take little longer than one.
import { spawn } from 'node:child_process';

const scripts = process.argv.slice(2);
if (scripts.length === 0) {
  console.error('usage: node scripts/run-all.mjs <npm script>...');
  process.exit(2);
}

const runs = scripts.map(
  (script) =>
    new Promise((resolve) => {
      const child = spawn('npm', ['run', script], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, FORCE_COLOR: process.env.FORCE_COLOR ?? '1' } });
      const output = [];
      child.stdout.on('data', (chunk) => output.push(chunk));
      child.stderr.on('data', (chunk) => output.push(chunk));
      child.on('close', (code, signal) => resolve({ script, code: code ?? 1, signal, output: Buffer.concat(output) }));
    }),
);

let failed = 0;
for (const run of runs) {
  const { script, code, signal, output } = await run;
  process.stdout.write(output);
  if (code !== 0) {
    failed += 1;
    console.error(`\nnpm run ${script} failed (${signal ?? `exit ${code}`})`);
  }
}
process.exit(failed > 0 ? 1 : 0);
