// The suite the demo runs against when none answers: the whole suite in one Miniflare plus the
// local QStash (scripts/local-suite.mjs), seeded as `npm run dev` seeds it (the demo user and the
// demo catalog), so every step finds what it finds under `npm run dev`.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ADMIN_TOKEN, startLocalSuite } from '../local-suite.mjs';
import { ROOT } from '../workers.mjs';

/** The statements of a seed file: its `--` comment lines dropped, split at each `;` that ends a line. */
function seedStatements(file) {
  const text = readFileSync(join(ROOT, 'scripts/seed', file), 'utf8')
    .split('\n')
    .filter((line) => !line.trimStart().startsWith('--'))
    .join('\n');
  return text
    .split(/;\s*$/m)
    .map((statement) => statement.trim())
    .filter(Boolean);
}

/** Starts and seeds the suite; resolves with its base URL, its operator token and `dispose()`. */
export async function startDemoSuite() {
  const suite = await startLocalSuite();
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
