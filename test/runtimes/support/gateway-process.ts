import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { ROOT } from '../../../scripts/workers.mjs';

export type Runtime = 'bun' | 'deno';

export interface GatewayProcess {
  runtime: Runtime;
  /** http://127.0.0.1:<port> */
  url: string;
  /** What the process printed so far (stdout and stderr), for failure messages. */
  output(): string;
  stop(): Promise<void>;
}

const BIN = join(ROOT, 'node_modules/.bin');

/**
 * The port the runtime says it bound: each is started on port 0 (the OS picks a free one and the
 * runtime keeps it), and announces it: Bun "Started … server: http://127.0.0.1:40859", Deno
 * "deno serve: Listening on http://127.0.0.1:35361/". Probing for a free port and handing it to
 * the child raced other processes for it (ERR_ADDRESS_IN_USE under load).
 */
export const announcedPort = (output: string): number | undefined => {
  // Bun writes an IPv6 host unbracketed (`http://:::37571`): the port is what follows the last colon.
  const match = /(?:Started [a-z ]*server|Listening on):? https?:\/\/\S*?:(\d+)\/?(?:\s|$)/.exec(output);
  return match ? Number(match[1]) : undefined;
};

/** The command that serves runtimes/<runtime>.ts on `port`, as the README gives it. */
function command(runtime: Runtime, port: number, host: string): { file: string; args: string[]; env: Record<string, string> } {
  if (runtime === 'bun') return { file: join(BIN, 'bun'), args: ['run', 'runtimes/bun.ts'], env: { PORT: String(port), HOST: host } };
  return {
    file: join(BIN, 'deno'),
    // `deno serve --host` takes an IPv6 address in brackets.
    args: ['serve', '--port', String(port), '--host', host.includes(':') ? `[${host}]` : host, '--unstable-sloppy-imports', '--allow-net', '--allow-env', 'runtimes/deno.ts'],
    env: { DENO_NO_UPDATE_CHECK: '1', NO_COLOR: '1' },
  };
}

/** Waits for `check` to hold, trying every `everyMs`, failing with `describe()` after `timeoutMs`. */
export async function pollUntil(check: () => Promise<boolean>, { timeoutMs, everyMs = 25, describe }: { timeoutMs: number; everyMs?: number; describe: () => string }): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`not within ${timeoutMs} ms: ${describe()}`);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

/**
 * Starts the gateway under `runtime` with `vars` on a free loopback port (listening on `host`:
 * `127.0.0.1`, or `::`, which also takes IPv4 callers, reached at 127.0.0.1) and waits (with a
 * deadline) until its /health answers. The child is stopped by `stop()`: SIGTERM, then SIGKILL if
 * it has not exited within 5 s.
 */
export async function startGateway(runtime: Runtime, vars: Record<string, string>, { readyTimeoutMs = 30_000, host = '127.0.0.1' } = {}): Promise<GatewayProcess> {
  const { file, args, env } = command(runtime, 0, host);
  const child = spawn(file, args, { cwd: ROOT, env: { ...process.env, ...vars, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  let url = '';
  const gateway: GatewayProcess = {
    runtime,
    get url() {
      return url;
    },
    output: () => output,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exited(child);
      clearTimeout(killer);
    },
  };
  try {
    await pollUntil(
      async () => {
        if (child.exitCode !== null) throw new Error(`${runtime} exited with ${child.exitCode}:\n${output}`);
        const port = announcedPort(output);
        if (port === undefined) return false;
        url = `http://127.0.0.1:${port}`;
        return fetch(`${url}/health`).then((response) => response.ok, () => false);
      },
      { timeoutMs: readyTimeoutMs, describe: () => `${runtime} gateway never answered /health:\n${output}` },
    );
  } catch (error) {
    await gateway.stop();
    throw error;
  }
  return gateway;
}
