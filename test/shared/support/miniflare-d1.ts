import { generateSQLiteDrizzleJson, generateSQLiteMigration } from 'drizzle-kit/api';
import { Miniflare } from 'miniflare';

/**
 * A real D1 (workerd's SQLite, through Miniflare) from Node, with `tables` created by the very
 * SQL drizzle-kit would generate for them in a service's migrations. For the D1 adapters' tests:
 * constraints, batches and RETURNING behave as in production, not as a fake's author imagined.
 */
export async function d1With(tables: Record<string, unknown>): Promise<{ d1: D1Database; dispose: () => Promise<void> }> {
  const mf = new Miniflare({
    modules: true,
    script: 'export default { fetch() { return new Response(null, { status: 404 }); } };',
    d1Databases: ['DB'],
  });
  const d1 = (await mf.getD1Database('DB')) as unknown as D1Database;
  const statements = await generateSQLiteMigration(await generateSQLiteDrizzleJson({}), await generateSQLiteDrizzleJson(tables));
  for (const statement of statements) await d1.prepare(statement).run();
  return { d1, dispose: () => mf.dispose() };
}
