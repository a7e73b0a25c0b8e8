// Node 20 cannot import TypeScript: a micro-benchmark's entry (a .ts file re-exporting what it
// times) is bundled with esbuild into the git-ignored .wrangler/ first, then imported.
import { build } from 'esbuild';
import { mkdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ROOT } from '../../scripts/workers.mjs';

/** Bundles `entry` (a path under the repo) into `.wrangler/<outName>/` and imports the result. */
export async function importTypeScript(entry, outName) {
  const outDir = join(ROOT, '.wrangler', outName);
  mkdirSync(outDir, { recursive: true });
  const outfile = join(outDir, basename(entry).replace(/\.ts$/, '.mjs'));
  await build({ entryPoints: [join(ROOT, entry)], bundle: true, format: 'esm', platform: 'node', target: 'node20', outfile, logLevel: 'warning' });
  // A query string per build: a second run in the same process must not get the cached module.
  return import(`${pathToFileURL(outfile).href}?t=${Date.now()}`);
}
