import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO = fileURLToPath(new URL('../..', import.meta.url));
const FAKE_WRANGLER = join(REPO, 'test', 'support', 'fake-wrangler.mjs');

export interface Call {
  args: string[];
  command: string;
  env: string | null;
  config: string | null;
}

export interface FakeWorker {
  secrets: Record<string, string>;
  versions: { id: string; vars: Record<string, string> }[];
  deployments: { versions: { version_id: string; percentage: number }[]; annotations: Record<string, string> }[];
  deployedVars: Record<string, string> | null;
}

export interface FakeState {
  loggedIn?: boolean;
  failCommand?: string;
  databases: { uuid: string; name: string }[];
  workers: Record<string, FakeWorker>;
  users: Record<string, { id: string; passwordHash: string; roles: string[] }>;
  executed: { database: string; sql: string }[];
}

/**
 * A temporary copy of what the deploy scripts read and write (package.json, every wrangler.toml,
 * scripts/, the event topology), with node_modules linked, so a test runs the real scripts
 * against the fake wrangler and never edits the repository's own files.
 */
export class DeploySandbox {
  readonly root = mkdtempSync(join(tmpdir(), 'stratus-deploy-'));
  readonly statePath = join(this.root, 'fake-wrangler-state.json');
  readonly logPath = join(this.root, 'fake-wrangler-calls.jsonl');

  constructor() {
    cpSync(join(REPO, 'package.json'), join(this.root, 'package.json'));
    cpSync(join(REPO, 'wrangler.toml'), join(this.root, 'wrangler.toml'));
    cpSync(join(REPO, 'scripts'), join(this.root, 'scripts'), { recursive: true });
    mkdirSync(join(this.root, 'shared', 'events'), { recursive: true });
    cpSync(join(REPO, 'shared', 'events', 'topology.json'), join(this.root, 'shared', 'events', 'topology.json'));
    for (const entry of readdirSync(join(REPO, 'workers'), { withFileTypes: true })) {
      const toml = join(REPO, 'workers', entry.name, 'wrangler.toml');
      mkdirSync(join(this.root, 'workers', entry.name, ...(entry.name === 'gateway' ? ['public'] : [])), { recursive: true });
      if (existsSync(toml)) cpSync(toml, join(this.root, 'workers', entry.name, 'wrangler.toml'));
    }
    symlinkSync(join(REPO, 'node_modules'), join(this.root, 'node_modules'));
  }

  /** Runs `node scripts/<script> ...args` in the copy with the fake wrangler; never rejects. */
  run(script: string, args: string[] = [], extraEnv: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
    const env: NodeJS.ProcessEnv = { ...process.env, WRANGLER: FAKE_WRANGLER, FAKE_WRANGLER_STATE: this.statePath, FAKE_WRANGLER_LOG: this.logPath, ...extraEnv };
    for (const name of ['QSTASH_TOKEN', 'QSTASH_URL', 'ADMIN_TOKEN', 'STRATUS_ADMIN_EMAIL', 'STRATUS_ADMIN_PASSWORD', 'CLOUDFLARE_API_TOKEN']) if (!(name in extraEnv)) delete env[name];
    return new Promise((resolve) => {
      execFile(process.execPath, [join(this.root, 'scripts', script), ...args], { cwd: this.root, env, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
        resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr });
      });
    });
  }

  calls(): Call[] {
    return existsSync(this.logPath) ? readFileSync(this.logPath, 'utf8').split('\n').filter(Boolean).map((line) => JSON.parse(line) as Call) : [];
  }

  clearCalls() {
    rmSync(this.logPath, { force: true });
  }

  state(): FakeState {
    return JSON.parse(readFileSync(this.statePath, 'utf8')) as FakeState;
  }

  setState(state: Partial<FakeState>) {
    writeFileSync(this.statePath, JSON.stringify({ ...(existsSync(this.statePath) ? this.state() : {}), ...state }));
  }

  read(path: string) {
    return readFileSync(join(this.root, path), 'utf8');
  }

  write(path: string, text: string) {
    writeFileSync(join(this.root, path), text);
  }

  /** Every wrangler.toml's text, by path. */
  configs(): Record<string, string> {
    const paths = ['wrangler.toml', ...readdirSync(join(this.root, 'workers')).map((w) => `workers/${w}/wrangler.toml`).filter((p) => existsSync(join(this.root, p)))];
    return Object.fromEntries(paths.map((p) => [p, this.read(p)]));
  }

  /** A second sandbox in the same state as this one: its config files and the fake account. */
  clone(): DeploySandbox {
    const copy = new DeploySandbox();
    for (const [path, text] of Object.entries(this.configs())) copy.write(path, text);
    if (existsSync(this.statePath)) cpSync(this.statePath, copy.statePath);
    return copy;
  }

  remove() {
    rmSync(this.root, { recursive: true, force: true });
  }
}
