import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = join(__dirname, '..', '..');

/** The table names a schema file defines (`sqliteTable('name'`), and those it re-exports from shared/. */
function tablesOf(file: string): string[] {
  const source = readFileSync(file, 'utf8');
  const own = [...source.matchAll(/sqliteTable\(\s*'([^']+)'/g)].map((m) => m[1]!);
  const reexported = [...source.matchAll(/export \{ (\w+) \} from '([^']+)'/g)].flatMap(([, name, from]) => {
    const shared = readFileSync(`${resolve(dirname(file), from!)}.ts`, 'utf8');
    const match = new RegExp(`export const ${name} = sqliteTable\\(\\s*'([^']+)'`).exec(shared);
    return match ? [match[1]!] : [];
  });
  return [...own, ...reexported];
}

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (name === 'node_modules' || name === 'public') return [];
    return statSync(path).isDirectory() ? sources(path) : path.endsWith('.ts') ? [path] : [];
  });
}

/** The first column of every row of README's "## Retention" table. */
function retentionRows(): string[] {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const section = readme.split(/^## Retention$/m)[1]?.split(/^## /m)[0] ?? '';
  return section
    .split('\n')
    .filter((line) => line.startsWith('| ') && !line.startsWith('| ---') && !line.startsWith('| what grows'))
    .map((line) => line.split('|')[1] ?? '');
}

/**
 * README's retention table covers every D1 table of every service and every Durable Object class:
 * a new table or object without a retention rule fails here.
 */
describe("README's retention table", () => {
  const rows = retentionRows();
  const covered = (name: string) => rows.some((cell) => cell.includes(`\`${name}\``));

  it('has rows', () => {
    expect(rows.length).toBeGreaterThan(5);
  });

  it('names every D1 table of every workers/*/schema.ts', () => {
    const schemas = readdirSync(join(ROOT, 'workers'))
      .map((service) => join(ROOT, 'workers', service, 'schema.ts'))
      .filter((file) => {
        try {
          return statSync(file).isFile();
        } catch {
          return false;
        }
      });
    const tables = [...new Set(schemas.flatMap(tablesOf))];
    expect(tables).toEqual(expect.arrayContaining(['inbox', 'outbox', 'events', 'orders', 'charge_keys', 'reservations']));
    expect(tables.filter((table) => !covered(table))).toEqual([]);
  });

  it('names every Durable Object class', () => {
    const classes = [...sources(join(ROOT, 'workers')), ...sources(join(ROOT, 'shared'))].flatMap((file) =>
      [...readFileSync(file, 'utf8').matchAll(/export class (\w+) extends DurableObject\b/g)].map((m) => m[1]!),
    );
    expect(classes).toEqual(expect.arrayContaining(['OrderSaga', 'RateLimiter', 'OutboxRelay']));
    expect(classes.filter((name) => !covered(name))).toEqual([]);
  });
});
