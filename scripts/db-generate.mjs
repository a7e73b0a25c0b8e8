#!/usr/bin/env node
// `npm run db:generate`: drizzle-kit turns each service's schema.ts into a new SQL migration in
// migrations/<service>/ (only when the schema changed). Services without a drizzle config are skipped.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { run } from './run.mjs';
import { ROOT, serviceWorkers } from './workers.mjs';

for (const service of serviceWorkers()) {
  const config = join(service.dir, 'drizzle.config.ts');
  if (!existsSync(config)) continue;
  console.log(`${service.name}: drizzle-kit generate`);
  await run(process.execPath, [join(ROOT, 'node_modules/drizzle-kit/bin.cjs'), 'generate', '--config', config]);
}
