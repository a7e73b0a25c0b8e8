import { readFileSync } from 'node:fs';
import { parse } from 'smol-toml';
import { describe, expect, it } from 'vitest';
import { environmentWorkers, ENVIRONMENTS, isPlaceholderDatabaseId } from '../../../scripts/cloudflare/environments.mjs';
import { deployTargets } from '../../../scripts/deploy-order.mjs';

// Every wrangler.toml's [env.staging] and [env.production]: wrangler inherits none of vars, D1,
// service or Durable Object bindings into an environment, so each is written out, and nothing
// may point at the top level's resources or at another environment's.

type Section = {
  vars?: Record<string, string>;
  services?: { binding: string; service: string }[];
  d1_databases?: { binding: string; database_name: string; database_id: string; migrations_dir: string }[];
  durable_objects?: { bindings: { name: string; class_name: string }[] };
};
type Config = Section & { name: string; env?: Record<string, Section> };

const configs = deployTargets().map((target) => ({ ...target, config: parse(readFileSync(target.configPath, 'utf8')) as unknown as Config }));
const workerNames = new Set(configs.map((c) => c.config.name));

describe.each(ENVIRONMENTS)('the %s environment', (env) => {
  it.each(configs.map((c) => [c.name, c] as const))('%s has its own bindings, all within %s', (_name, { config }) => {
    const section = config.env?.[env];
    expect(section, `${config.name} has no [env.${env}]`).toBeDefined();
    // The same bindings as the top level, each renamed into the environment.
    expect((section!.services ?? []).map((s) => s.binding)).toEqual((config.services ?? []).map((s) => s.binding));
    for (const binding of section!.services ?? []) {
      expect(binding.service.endsWith(`-${env}`), `${binding.binding} -> ${binding.service}`).toBe(true);
      expect(workerNames.has(binding.service.slice(0, -`-${env}`.length))).toBe(true);
    }
    expect(section!.d1_databases?.map((d) => ({ ...d, database_id: undefined }))).toEqual(
      config.d1_databases?.map((d) => ({ ...d, database_id: undefined, database_name: `${d.database_name}-${env}` })),
    );
    expect(section!.durable_objects).toEqual(config.durable_objects);
    // Every var the top level sets is set for the environment too (values may differ).
    expect(Object.keys(section!.vars ?? {})).toEqual(expect.arrayContaining(Object.keys(config.vars ?? {})));
  });

  it('the canary shares the catalog\'s database, and no two workers otherwise share one', () => {
    const workers = environmentWorkers(env);
    const owners = new Map<string, string[]>();
    for (const w of workers) for (const db of w.d1) owners.set(db.database_name, [...(owners.get(db.database_name) ?? []), w.name]);
    for (const [name, users] of owners) expect(users, name).toEqual(name === `stratus-catalog-${env}` ? ['catalog', 'catalog-canary'] : [expect.any(String)]);
  });

  it('stays within Workers Free\'s D1 calls by default (LEDGER_REBUILD_PAGES_PER_SLICE)', () => {
    expect(Number(environmentWorkers(env).find((w) => w.name === 'ledger')!.vars.LEDGER_REBUILD_PAGES_PER_SLICE)).toBeLessThanOrEqual(20);
  });
});

describe('the environments', () => {
  it('share no database, and no worker name with each other or the top level', () => {
    const names = ENVIRONMENTS.flatMap((env) => environmentWorkers(env).map((w) => w.worker));
    expect(new Set([...names, ...workerNames]).size).toBe(names.length + workerNames.size);
    const databases = ENVIRONMENTS.flatMap((env) => [...new Set(environmentWorkers(env).flatMap((w) => w.d1.map((d) => d.database_name)))]);
    expect(new Set(databases).size).toBe(databases.length);
  });

  it('recognise the repository\'s placeholder database ids, and only those', () => {
    expect(isPlaceholderDatabaseId('00000000-0000-4000-8000-000000000006')).toBe(true);
    expect(isPlaceholderDatabaseId(undefined)).toBe(true);
    expect(isPlaceholderDatabaseId('3f2b8a1c-0d4e-4b5a-9c6d-7e8f9a0b1c2d')).toBe(false);
  });
});
