import { spawn } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, it } from 'vitest';

/**
 * `npm run demo` must say so when the suite misbehaves: against a stand-in that passes for a
 * gateway at /health and answers 500 to everything else, the demo marks the step that failed with
 * ✗ and exits 1. (test/system/demo.system.test.ts runs it against the real suite.)
 */

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
let broken: Server;
let url: string;
const requested: string[] = [];

beforeAll(async () => {
  broken = createServer((request, response) => {
    requested.push(`${request.method} ${request.url}`);
    request.resume();
    if (request.url === '/health') {
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ status: 'ok' }));
      return;
    }
    response.writeHead(500, { 'content-type': 'application/problem+json' });
    response.end(JSON.stringify({ type: 'about:blank', title: 'Internal Server Error', status: 500 }));
  });
  await new Promise<void>((resolve) => broken.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(broken.address() as AddressInfo).port}`;
});

afterAll(async () => {
  broken.closeAllConnections();
  await new Promise<void>((resolve) => broken.close(() => resolve()));
});

function runDemo(args: string[]): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['scripts/demo.mjs', ...args], { cwd: ROOT, env: { ...process.env, NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    const killer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.on('error', reject);
    child.on('exit', (code) => {
      clearTimeout(killer);
      resolve({ code, output });
    });
  });
}

it('exits 1 with a ✗ line when a step does not behave as described', { timeout: 40_000 }, async () => {
  const { code, output } = await runDemo(['--url', url]);
  expect(output, output).toContain(`against the running suite at ${url}`);
  expect(output, output).toMatch(/✗ /);
  expect(output, output).toContain('steps did not behave as described');
  expect(output).not.toContain('All 9 steps behaved as described.');
  expect(code, output).toBe(1);
  // It asked the stand-in, not some other suite.
  expect(requested).toContain('GET /health');
});
