// Everything `npm run dev` (and the benchmarks) need before the workers start: local secrets,
// D1 migrations and demo data. Each step is idempotent, so running it again changes nothing.
import { copyFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { wrangler } from './run.mjs';
import { PERSIST_DIR, ROOT, serviceWorkers } from './workers.mjs';

export async function prepareLocal({ log = console.log } = {}) {
  const devVars = join(ROOT, '.dev.vars');
  if (!existsSync(devVars)) {
    copyFileSync(join(ROOT, '.dev.vars.example'), devVars);
    log('created .dev.vars from .dev.vars.example');
  }

  for (const service of serviceWorkers()) {
    for (const db of service.d1) {
      log(`${service.name}: applying migrations to local D1 ${db.database_name}`);
      await wrangler(['d1', 'migrations', 'apply', db.database_name, '--local', '--persist-to', PERSIST_DIR, '-c', service.configPath]);
      const seed = join(ROOT, 'scripts', 'seed', `${service.name}.sql`);
      if (existsSync(seed)) {
        log(`${service.name}: seeding demo data (INSERT OR IGNORE: existing rows are kept)`);
        await wrangler(['d1', 'execute', db.database_name, '--local', '--persist-to', PERSIST_DIR, '-c', service.configPath, '--file', seed]);
      }
    }
  }
}
