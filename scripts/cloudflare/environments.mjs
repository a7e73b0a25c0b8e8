// The suite's workers as one Cloudflare environment (`--env staging`, `--env production`) sees
// them. Each wrangler.toml names, per environment, its own vars, D1 database, service bindings and
// Durable Objects (wrangler inherits none of those); wrangler names the worker `<name>-<env>`.
// The top level of each file is local development's and the tests' and is never deployed.
import { readFileSync } from 'node:fs';
import { parse } from 'smol-toml';
import { deployOrder } from '../deploy-order.mjs';
import { gatewayConfigPath, serviceWorkers } from '../workers.mjs';

export const ENVIRONMENTS = ['staging', 'production'];

/** Database ids the repository ships with: stand-ins for local D1, never a real database. */
export const isPlaceholderDatabaseId = (id) => !id || /^0{8}-0{4}-[0-9a-f]{4}-[0-9a-f]{4}-0{8}[0-9a-f]{4}$/i.test(String(id));

/**
 * `--env <name>` (or `--env=<name>`) from argv; `fallback` when absent (null: none, the top
 * level). Anything but a known environment is refused, so a typo never deploys the top level
 * (local development's config).
 */
export function environmentFrom(argv, fallback = 'production') {
  const index = argv.findIndex((a) => a === '--env' || a.startsWith('--env='));
  const name = index === -1 ? fallback : argv[index].includes('=') ? argv[index].split('=')[1] : argv[index + 1];
  if (name === undefined || name === null) return undefined;
  if (!ENVIRONMENTS.includes(name)) throw new Error(`unknown environment "${name}": use --env ${ENVIRONMENTS.join(' or --env ')}`);
  return name;
}

/** The value of `--name value` or `--name=value` in argv, else undefined. */
export function flagValue(argv, name) {
  const index = argv.findIndex((a) => a === `--${name}` || a.startsWith(`--${name}=`));
  if (index === -1) return undefined;
  return argv[index].includes('=') ? argv[index].slice(argv[index].indexOf('=') + 1) : argv[index + 1];
}

/**
 * @typedef {{ name: string, configPath: string, worker: string, bindsTo: string[],
 *   vars: Record<string, string>, d1: { binding: string, database_name: string, database_id: string, migrations_dir?: string }[] }} EnvWorker
 */

/**
 * Every worker of the suite in environment `env`, in deploy order (each after the workers it
 * binds to), with that environment's vars, databases and bindings.
 * @returns {EnvWorker[]}
 */
export function environmentWorkers(env) {
  const read = (name, configPath) => {
    const config = parse(readFileSync(configPath, 'utf8'));
    const section = /** @type {Record<string, any>} */ (config.env ?? {})[env];
    if (!section) throw new Error(`${configPath} has no [env.${env}] section: every worker needs one (docs/deploying.md)`);
    return {
      name,
      configPath,
      worker: `${config.name}-${env}`,
      bindsTo: (section.services ?? []).map((binding) => binding.service),
      vars: section.vars ?? {},
      d1: section.d1_databases ?? [],
    };
  };
  return deployOrder([...serviceWorkers().map((s) => read(s.name, s.configPath)), read('gateway', gatewayConfigPath())]);
}
