import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// The repository documents itself: nobody who clones it has the design and contract files it was
// first written from, so no file may send its reader to them, and every docs/ file named exists.

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const files = execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard'], { cwd: ROOT, encoding: 'utf8' })
  .split('\n')
  .filter((f) => f && /\.(ts|mts|mjs|js|md|toml|json|sql|yml|yaml|sh)$|^\.ci\/run$/.test(f) && !f.startsWith('workers/gateway/public/') && existsSync(join(ROOT, f)));
const THIS_FILE = 'test/scripts/self-documented.test.ts';

describe('the repository documents itself', () => {
  it('sends no reader to a document outside it', () => {
    const outside = /\b(DESIGN|API|STYLE|QSTASH)\.md\b|\.\.\/shared\/[A-Z]|the design card/;
    const found = files.filter((f) => f !== THIS_FILE).flatMap((f) =>
      readFileSync(join(ROOT, f), 'utf8').split('\n').flatMap((line, i) => (outside.test(line) ? [`${f}:${i + 1}: ${line.trim()}`] : [])),
    );
    expect(files.length).toBeGreaterThan(200);
    expect(found).toEqual([]);
  });

  it('names only docs/ files that exist', () => {
    const named = new Set(files.flatMap((f) => [...readFileSync(join(ROOT, f), 'utf8').matchAll(/\bdocs\/([a-z0-9-]+\.md)\b/g)].map((m) => `docs/${m[1]}`)));
    expect(named.size).toBeGreaterThan(2);
    expect([...named].filter((doc) => !existsSync(join(ROOT, doc)))).toEqual([]);
  });
});
