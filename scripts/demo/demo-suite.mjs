// The suite the demo runs against when none answers: the whole suite in one Miniflare plus the
// local QStash (scripts/local-suite.mjs), seeded as `npm run dev` seeds it (the demo user and the
// demo catalog), so every step finds what it finds under `npm run dev`.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { unstable_splitSqlQuery } from 'wrangler';
import { ADMIN_TOKEN, startLocalSuite } from '../local-suite.mjs';
import { ROOT } from '../workers.mjs';

/** The statements of a seed file, split by wrangler's own splitter (what `wrangler d1 execute --file` runs). */
const seedStatements = (file) => unstable_splitSqlQuery(readFileSync(join(ROOT, 'scripts/seed', file), 'utf8'));

// Its own build folders: a system test starting its suite at the same time bundles into `suite-*`.
const OPTIONS = { buildPrefix: 'demo' };

/**
 * The suite, started once more if workerd fails to start: the gateway's port is picked free
 * before workerd binds it, and on a busy machine something else may take it in between.
 */
async function startSuite() {
  // wrangler, reading each worker's config, names every .dev.vars it finds; the suite pins every
  // var those could set, so to a newcomer the lines would only mislead.
  process.env.WRANGLER_LOG ??= 'warn';
  try {
    return await startLocalSuite(OPTIONS);
  } catch (error) {
    if (error?.code !== 'ERR_RUNTIME_FAILURE') throw error;
    console.error(`workerd did not start (${error.message}); trying once more`);
    return startLocalSuite(OPTIONS);
  }
}

/** Starts and seeds the suite; resolves with its base URL, its operator token and `dispose()`. */
export async function startDemoSuite() {
  const suite = await startSuite();
  try {
    for (const [service, file] of [
      ['users', 'users.sql'],
      ['catalog', 'catalog.sql'],
    ]) {
      const db = suite.db(service);
      await db.batch(seedStatements(file).map((sql) => db.prepare(sql)));
    }
  } catch (error) {
    await suite.dispose();
    throw error;
  }
  return { baseUrl: suite.gatewayUrl, adminToken: ADMIN_TOKEN, dispose: () => suite.dispose() };
}
