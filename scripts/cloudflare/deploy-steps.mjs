// The steps a real deploy is made of, each one wrangler call per worker, shared by
// `npm run deploy` and `npm run setup:cloudflare`.
import { callWrangler } from '../wrangler-cli.mjs';

/**
 * Applies every database's migrations remotely, first (so new code never meets an old schema);
 * a database two workers share (the catalog and its canary) once.
 */
export async function applyRemoteMigrations(workers, env, log = console.log) {
  const migrated = new Set();
  for (const worker of workers) {
    for (const db of worker.d1) {
      if (migrated.has(db.database_name)) continue;
      migrated.add(db.database_name);
      log(`${worker.name}: applying migrations to remote D1 ${db.database_name}`);
      await callWrangler(['d1', 'migrations', 'apply', db.database_name, '--remote', '-c', worker.configPath, '--env', env]);
    }
  }
}

/**
 * `wrangler deploy` for each worker, in the order given (deploy order: each after those it binds
 * to). Returns the gateway's public URL as wrangler reported it (its output file's `targets`).
 * @returns {Promise<{ gatewayUrl: string | undefined }>}
 */
export async function deployWorkers(workers, env, log = console.log) {
  let gatewayUrl;
  for (const worker of workers) {
    log(`deploying ${worker.worker}`);
    const { outputs } = await callWrangler(['deploy', '-c', worker.configPath, '--env', env]);
    const deployed = outputs.find((entry) => entry.type === 'deploy');
    if (worker.name === 'gateway') gatewayUrl = /** @type {string[]} */ (deployed?.targets ?? []).find((t) => t.startsWith('https://'));
  }
  return { gatewayUrl };
}

/** A worker's deployments, oldest first, as `wrangler deployments list --json` gives them ([] before the first). */
export async function deploymentsOf(worker, env) {
  try {
    const { stdout } = await callWrangler(['deployments', 'list', '--json', '-c', worker.configPath, '--env', env], { capture: true });
    return /** @type {{ id: string, created_on: string, versions: { version_id: string, percentage: number }[] }[]} */ (JSON.parse(stdout)).sort((a, b) => a.created_on.localeCompare(b.created_on));
  } catch (error) {
    if (/not found/i.test(`${error.stderr ?? ''}${error.message}`)) return [];
    throw error;
  }
}

/** `wrangler versions deploy` with the given traffic split, without prompting. */
export async function deployVersions(worker, env, split, message) {
  const specs = Object.entries(split).filter(([, percentage]) => percentage > 0).map(([id, percentage]) => `${id}@${percentage}%`);
  await callWrangler(['versions', 'deploy', ...specs, '-y', '--message', message, '-c', worker.configPath, '--env', env], { quiet: true });
}

/** Uploads a new version of the worker without sending it traffic; resolves with its id. */
export async function uploadVersion(worker, env) {
  const { stdout, outputs } = await callWrangler(['versions', 'upload', '-c', worker.configPath, '--env', env], { capture: true });
  const id = outputs.find((entry) => entry.type === 'version-upload')?.version_id ?? /Worker Version ID: (\S+)/.exec(stdout)?.[1];
  if (!id) throw new Error(`wrangler versions upload for ${worker.worker} reported no version id`);
  return String(id);
}
