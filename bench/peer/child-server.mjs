// Starts a bench server (upstream-server.mjs, express-gateway.mjs) in its own Node process and
// waits for the {"port":…} line it prints once listening; every one started is stopped by stopAll.
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';

const children = new Set();

export function startChild(script, env = {}) {
  const child = spawn(process.execPath, [script], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
  children.add(child);
  child.on('exit', () => children.delete(child));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${script} did not start within 10 s`)), 10_000);
    child.on('error', reject);
    child.on('exit', (code) => reject(new Error(`${script} exited (${code}) before listening`)));
    createInterface({ input: child.stdout }).once('line', (line) => {
      clearTimeout(timer);
      const { port } = JSON.parse(line);
      resolve({ url: (path = '/') => new URL(path, `http://127.0.0.1:${port}`).href, port, pid: child.pid });
    });
  });
}

/** Stops every child still running (SIGTERM, then SIGKILL after a second). */
export async function stopAll() {
  await Promise.all(
    [...children].map(
      (child) =>
        new Promise((resolve) => {
          // Not unref'd: this process must not exit before a child that ignored SIGTERM is killed.
          const kill = setTimeout(() => child.kill('SIGKILL'), 1_000);
          child.once('exit', () => {
            clearTimeout(kill);
            resolve();
          });
          child.kill('SIGTERM');
        }),
    ),
  );
}
