// The suite's workers as the dev tooling sees them: the gateway (root wrangler.toml) and every
// service folder with its own wrangler.toml. Adding a service needs no change here.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
// A plain TOML parser, not wrangler's API: importing wrangler installs SIGINT/SIGTERM handlers
// that exit the process, which would stop the dev launcher from shutting wrangler down cleanly.
import { parse } from 'smol-toml';

// fileURLToPath, not URL.pathname: a checkout under a path with spaces must work too.
export const ROOT = fileURLToPath(new URL('..', import.meta.url)).replace(/\/$/, '');
export const PERSIST_DIR = join(ROOT, '.wrangler', 'state');

/** @returns {{ name: string, dir: string, configPath: string, d1: { binding: string, database_name: string }[], crons: string[] }[]} */
export function serviceWorkers() {
  const workersDir = join(ROOT, 'workers');
  return readdirSync(workersDir, { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && existsSync(join(workersDir, entry.name, 'wrangler.toml')))
    .map((entry) => {
      const configPath = join(workersDir, entry.name, 'wrangler.toml');
      const config = parse(readFileSync(configPath, 'utf8'));
      return { name: entry.name, dir: join(workersDir, entry.name), configPath, d1: config.d1_databases ?? [], crons: config.triggers?.crons ?? [] };
    })
    .sort((a, b) => a.name.localeCompare(b.name));
}

export const gatewayConfigPath = () => join(ROOT, 'wrangler.toml');
