// A throwaway redis-server for tests and local runs of the Upstash REST bridge: the redis-server
// on PATH, on a free loopback port, persisting nothing, stopped by close() (or, failing that, when
// this process exits).
import { spawn } from 'node:child_process';
import { accessSync, constants, mkdtempSync, realpathSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { RedisConnection } from './resp.mjs';

const ATTEMPTS = 3;
const OUTPUT_KEPT = 4096;

/** @returns the path of the redis-server on PATH, or null */
export function findRedisServer() {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, 'redis-server');
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return null;
}

export const hasRedisServer = () => findRedisServer() !== null;

function freePort() {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = /** @type {import('node:net').AddressInfo} */ (probe.address());
      probe.close(() => resolve(port));
    });
  });
}

/**
 * Starts redis-server and resolves once it answers PING.
 * @returns {Promise<{ url: string, port: number, pid: number, close(): Promise<void> }>}
 */
export async function startRedisServer({ readyTimeoutMs = 10_000 } = {}) {
  const bin = findRedisServer();
  if (!bin) throw new Error('redis-server is not on PATH (Debian/Ubuntu: apt-get install redis-server)');
  // The free port can be taken between probing it and redis-server binding it; then try another.
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOn(bin, await freePort(), readyTimeoutMs);
    } catch (error) {
      if (!error.portTaken || attempt === ATTEMPTS) throw error;
    }
  }
}

async function startOn(bin, port, readyTimeoutMs) {
  // Its own empty working directory: nothing can land in the checkout, and CONFIG GET dir tells
  // this server apart from anything else that might answer on the port.
  const dir = realpathSync(mkdtempSync(join(tmpdir(), 'stratus-redis-')));
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, '--daemonize', 'no', '--loglevel', 'warning'];
  const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const keep = (chunk) => {
    output = (output + chunk).slice(-OUTPUT_KEPT);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  const exited = new Promise((resolve) => {
    child.once('exit', resolve);
    child.once('error', (error) => {
      keep(String(error));
      resolve(null);
    });
  });
  const running = () => child.exitCode === null && child.signalCode === null && child.pid !== undefined;

  const onExit = () => {
    child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  };
  process.once('exit', onExit);
  let closing = null;
  const close = () =>
    (closing ??= (async () => {
      process.off('exit', onExit);
      if (running()) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
        await exited;
        clearTimeout(timer);
      }
      rmSync(dir, { recursive: true, force: true });
    })());

  const url = `redis://127.0.0.1:${port}`;
  const deadline = Date.now() + readyTimeoutMs;
  // Poll until it answers (backing off from 5 ms to 100 ms), up to the deadline.
  for (let delay = 5; ; delay = Math.min(delay * 2, 100)) {
    if (!running()) {
      await close();
      const error = new Error(`redis-server exited before it was ready:\n${output.trim()}`);
      error.portTaken = /address already in use/i.test(output);
      throw error;
    }
    if (await isOurs(url, dir)) break;
    if (Date.now() > deadline) {
      await close();
      throw new Error(`redis-server did not answer PING within ${readyTimeoutMs} ms:\n${output.trim()}`);
    }
    await new Promise((resolve) => setTimeout(resolve, delay));
  }
  return { url, port, pid: /** @type {number} */ (child.pid), close };
}

async function isOurs(url, dir) {
  const connection = new RedisConnection(url, { connectTimeoutMs: 1_000 });
  try {
    const [pong, config] = await connection.exec([['PING'], ['CONFIG', 'GET', 'dir']]);
    return pong === 'PONG' && Array.isArray(config) && String(config[1]) === dir;
  } catch {
    return false;
  } finally {
    connection.close();
  }
}
