// QStash for `npm run dev`: the .dev.vars every worker needs to publish and to verify deliveries,
// and the local server started (with the topology set up) before wrangler.
import { join, relative } from 'node:path';
import { readDevVar, writeDevVar } from '../dev-keys.mjs';
import { QSTASH_STATE_DIR, startQStashServer } from '../qstash-server.mjs';
import { setupQStash } from '../qstash-setup.mjs';
import { ROOT, serviceWorkers } from '../workers.mjs';
import { LOCAL_QSTASH_CURRENT_SIGNING_KEY, LOCAL_QSTASH_NEXT_SIGNING_KEY, LOCAL_QSTASH_PORT, LOCAL_QSTASH_TOKEN } from './local-credentials.mjs';

const qstashPort = () => Number(process.env.QSTASH_PORT || LOCAL_QSTASH_PORT);
const gatewayPort = () => process.env.PORT || '8787';

/**
 * Adds the QStash variables to every worker's .dev.vars (root for the gateway, workers/<s>/ for a
 * service) where they are missing; a value already there is kept, so pointing one file at a real
 * QStash survives the next `npm run dev`. The one exception: a QSTASH_URL or HOOKS_BASE_URL on
 * loopback was written by an earlier run for its QSTASH_PORT or PORT, and follows the port in use
 * now; left as it was, `PORT=8788 npm run dev` would have QStash deliver to a port nothing listens
 * on (and consumers verify signatures against the old URL).
 * @param {{ log?: (line: string) => void, dirs?: string[] }} [options] dirs: where the .dev.vars
 *   files live (default: the gateway's and every service's folder)
 */
export function ensureQStashDevVars({ log = console.log, dirs = [ROOT, ...serviceWorkers().map((service) => service.dir)] } = {}) {
  const values = {
    QSTASH_URL: `http://127.0.0.1:${qstashPort()}`,
    QSTASH_TOKEN: LOCAL_QSTASH_TOKEN,
    QSTASH_CURRENT_SIGNING_KEY: LOCAL_QSTASH_CURRENT_SIGNING_KEY,
    QSTASH_NEXT_SIGNING_KEY: LOCAL_QSTASH_NEXT_SIGNING_KEY,
    HOOKS_BASE_URL: `http://127.0.0.1:${gatewayPort()}`,
  };
  const followsLocalPort = new Set(['QSTASH_URL', 'HOOKS_BASE_URL']);
  for (const dir of dirs) {
    const file = join(dir, '.dev.vars');
    const name = relative(ROOT, file) || '.dev.vars';
    const added = [];
    const moved = [];
    for (const [key, value] of Object.entries(values)) {
      const current = readDevVar(file, key);
      if (current === undefined) added.push(key);
      else if (followsLocalPort.has(key) && current !== value && isLoopback(current)) moved.push(key);
      else continue;
      writeDevVar(file, key, value);
    }
    if (added.length > 0) log(`${name}: added ${added.join(', ')} (local QStash)`);
    for (const key of moved) log(`${name}: ${key} now ${values[key]} (the port changed)`);
  }
}

const isLoopback = (url) => {
  try {
    return ['127.0.0.1', 'localhost', '[::1]'].includes(new URL(url).hostname);
  } catch {
    return false;
  }
};

/** True if something at `url` answers GET /v2/keys with `token` as QStash does. */
async function answersAsQStash(url, token) {
  try {
    const response = await fetch(`${url}/v2/keys`, { headers: { authorization: `Bearer ${token}` }, signal: AbortSignal.timeout(2_000) });
    return response.ok && typeof (await response.json()).current === 'string';
  } catch {
    return false;
  }
}

/**
 * Starts the local QStash on QSTASH_PORT (8080) with the credentials the gateway's .dev.vars holds
 * (what the workers hold too), unless QSTASH_URL in the environment names a QStash elsewhere; then
 * creates the topics and queues. A QStash already listening on the port (say, a
 * `node scripts/qstash-server.mjs` in another terminal) is used as it is.
 * @returns {Promise<{ url: string, close(): Promise<void> }>}
 */
export async function startDevQStash({ log = console.log } = {}) {
  const gatewayVars = join(ROOT, '.dev.vars');
  const hooksBaseUrl = process.env.HOOKS_BASE_URL || readDevVar(gatewayVars, 'HOOKS_BASE_URL') || `http://127.0.0.1:${gatewayPort()}`;
  const token = process.env.QSTASH_TOKEN || readDevVar(gatewayVars, 'QSTASH_TOKEN') || LOCAL_QSTASH_TOKEN;

  if (process.env.QSTASH_URL && !isLoopback(process.env.QSTASH_URL)) {
    log(`QSTASH_URL points at ${new URL(process.env.QSTASH_URL).origin}: no local QStash; setting up the topology there`);
    await setupQStash({ url: process.env.QSTASH_URL, token, hooksBaseUrl, log }).catch((error) => log(`qstash setup failed (the workers will still start): ${error.message}`));
    return { url: process.env.QSTASH_URL, close: async () => {} };
  }

  const port = qstashPort();
  const url = `http://127.0.0.1:${port}`;
  let server;
  try {
    server = await startQStashServer({
      port,
      token,
      currentSigningKey: readDevVar(gatewayVars, 'QSTASH_CURRENT_SIGNING_KEY') || LOCAL_QSTASH_CURRENT_SIGNING_KEY,
      nextSigningKey: readDevVar(gatewayVars, 'QSTASH_NEXT_SIGNING_KEY') || LOCAL_QSTASH_NEXT_SIGNING_KEY,
      // QSTASH_PLAN=paid: default retries and DLQ retention as a paid plan has them.
      plan: process.env.QSTASH_PLAN || 'free',
      // Kept beside wrangler's local state, so a restart of `npm run dev` loses no message.
      stateDir: process.env.QSTASH_STATE_DIR || QSTASH_STATE_DIR,
      log: (line) => log(`[qstash] ${line}`),
    });
    log(`local QStash on ${server.url} (${process.env.QSTASH_PLAN || 'free'} plan, state kept in ${relative(ROOT, process.env.QSTASH_STATE_DIR || QSTASH_STATE_DIR)}; deliveries to ${hooksBaseUrl}/hooks/*)`);
  } catch (error) {
    if (error.code !== 'EADDRINUSE') throw error;
    if (!(await answersAsQStash(url, token))) {
      throw new Error(`port ${port} is taken by something that is not a QStash with our token; free it or set QSTASH_PORT (and QSTASH_URL in the .dev.vars files)`);
    }
    log(`a QStash is already running on ${url}; using it`);
  }
  await setupQStash({ url, token, hooksBaseUrl, log });
  return { url, close: async () => server?.close() };
}
