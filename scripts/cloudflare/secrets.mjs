// Reading and setting a worker's secrets through wrangler. Values go to `wrangler secret bulk` on
// its stdin, never through argv (visible to every process) or a file, and are never printed.
import { callWrangler } from '../wrangler-cli.mjs';

/**
 * The names of the secrets worker `configPath` holds in `env`; an empty list for a worker that
 * does not exist yet (wrangler says "not found" until the first deploy or secret).
 * @returns {Promise<string[]>}
 */
export async function secretNames(configPath, env) {
  try {
    const { stdout } = await callWrangler(['secret', 'list', '--format', 'json', '-c', configPath, '--env', env], { capture: true });
    return JSON.parse(stdout).map((secret) => secret.name);
  } catch (error) {
    if (/not found/i.test(`${error.stderr ?? ''}${error.message}`)) return [];
    throw error;
  }
}

/** Sets every secret of `values` on one worker in one call (and one new version). */
export async function putSecrets(configPath, env, values) {
  await callWrangler(['secret', 'bulk', '-c', configPath, '--env', env], { input: JSON.stringify(values), quiet: true });
}
