// Everything `npm run dev` (and the benchmarks) need before the workers start: local secrets,
// D1 migrations and demo data. Each step is idempotent, so running it again changes nothing.
import { copyFileSync, existsSync } from 'node:fs';
import { join, relative } from 'node:path';
import { ensureServiceTokenKeys } from './dev-keys.mjs';
import { wrangler } from './run.mjs';
import { PERSIST_DIR, ROOT, serviceWorkers } from './workers.mjs';

export async function prepareLocal({ log = console.log } = {}) {
  // wrangler reads .dev.vars beside each config: the root one for the gateway, workers/<s>/ for a service.
  for (const dir of [ROOT, ...serviceWorkers().map((service) => service.dir)]) {
    const example = join(dir, '.dev.vars.example');
    const devVars = join(dir, '.dev.vars');
    if (existsSync(example) && !existsSync(devVars)) {
      copyFileSync(example, devVars);
      log(`created ${relative(ROOT, devVars) || '.dev.vars'} from its .dev.vars.example`);
    }
  }
  await ensureServiceTokenKeys({ log });

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
