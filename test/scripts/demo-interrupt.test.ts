import { spawn } from 'node:child_process';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { expect, it } from 'vitest';

/**
 * Ctrl-C during the demo's breaker step, while chaos is on, must turn chaos off before the demo
 * exits: otherwise the catalog keeps failing for whoever uses the suite next. The step runs in a
 * child process against a fake gateway whose catalog reads never answer (the moment a person
 * gives up and presses Ctrl-C); the child gets SIGINT there.
 */

const STEP = pathToFileURL(fileURLToPath(new URL('../../scripts/demo/steps/breaker.mjs', import.meta.url))).href;

const CHILD = `
import { breaker } from ${JSON.stringify(STEP)};
const answer = (status, body = {}) => ({ status, headers: new Headers(), body, ms: 0 });
const call = async (method, path) => {
  console.log('CALL', method, path);
  if (path === '/_ops/breakers') return answer(200, { catalog: { state: 'closed' } });
  if (method === 'PUT' || method === 'DELETE') return answer(204);
  // A catalog read that never answers; the timer keeps the process alive meanwhile.
  return new Promise(() => setInterval(() => {}, 60_000));
};
await breaker.run({ call, show: () => {}, note: () => {}, state: { token: 'demo' } });
`;

it('turns chaos off and exits 130 when interrupted while chaos is on', { timeout: 20_000 }, async () => {
  const child = spawn(process.execPath, ['--input-type=module', '-e', CHILD], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const killer = setTimeout(() => child.kill('SIGKILL'), 15_000);
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString('utf8');
      // Chaos is on and a catalog read is under way: press Ctrl-C.
      if (output.includes('CALL PUT /_ops/chaos/catalog') && output.includes('CALL GET /api/catalog/products/')) resolve();
    });
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    child.on('exit', () => reject(new Error(`the step ended before it read the catalog:\n${output}`)));
  });
  child.kill('SIGINT');
  const code = await exited;
  clearTimeout(killer);
  expect(output, output).toContain('CALL DELETE /_ops/chaos/catalog');
  expect(code, output).toBe(130);
});
