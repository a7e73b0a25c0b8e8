// Each service's D1, as the local suite's callers (system tests, the demo, benches) read and write
// it from Node: every query goes to a small worker in the suite's own workerd over an ordinary
// async fetch. Miniflare's getD1Database() proxy is not used for this because its prepare() and
// bind() are synchronous calls into workerd that block Node's event loop until answered; while
// Node is blocked it cannot read workerd's stdout, and a busy suite that logs more than the
// pipe holds meanwhile blocks workerd on its write: both wait for ever (seen in the chaos test).

/** The worker's source: runs one statement, or a batch, on the database its body names. */
export const SUITE_SQL_WORKER = `
const run = (db, { sql, params = [], method = 'all' }) => {
  const statement = db.prepare(sql).bind(...params);
  return method === 'first' ? statement.first() : method === 'run' ? statement.run() : statement.all();
};
export default {
  async fetch(request, env) {
    const { database, statement, batch } = await request.json();
    const db = env[database];
    if (!db) return Response.json({ error: 'no database ' + database }, { status: 404 });
    try {
      const result = batch ? await db.batch(batch.map(({ sql, params = [] }) => db.prepare(sql).bind(...params))) : await run(db, statement);
      return Response.json({ result: result ?? null });
    } catch (error) {
      return Response.json({ error: String(error && error.message || error) }, { status: 500 });
    }
  },
};
`;

/** The binding the SQL worker knows a database by. */
const bindingOf = (databaseName) => `DB_${databaseName.replace(/[^A-Za-z0-9]/g, '_')}`;

/**
 * The SQL worker's Miniflare options: each database (by name) bound with the id its service's
 * worker binds, so both open the same D1.
 * @param {Map<string, unknown>} databaseIds database_name -> the service worker's d1Databases entry
 */
export function suiteSqlWorker(databaseIds) {
  return {
    name: 'suite-sql',
    modules: true,
    script: SUITE_SQL_WORKER,
    compatibilityDate: '2025-01-01',
    d1Databases: Object.fromEntries([...databaseIds].map(([name, id]) => [bindingOf(name), id])),
  };
}

/**
 * A D1-shaped client for one database: `prepare(sql).bind(...).all()/first()/run()` and
 * `batch([...])`, every call async, the answers as D1 gives them (JSON-clean).
 * @param {() => Promise<{ fetch(url: string, init: RequestInit): Promise<Response> }>} sqlWorker
 * @param {string} databaseName
 */
export function suiteDatabase(sqlWorker, databaseName) {
  const database = bindingOf(databaseName);
  const call = async (body) => {
    const response = await (await sqlWorker()).fetch('http://suite-sql/', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ database, ...body }) });
    const answer = await response.json();
    if (!response.ok) throw new Error(`${databaseName}: ${answer.error}`);
    return answer.result;
  };
  const statement = (sql, params = []) => ({
    sql,
    params,
    bind: (...values) => statement(sql, values),
    all: () => call({ statement: { sql, params, method: 'all' } }),
    first: async (column) => {
      const row = await call({ statement: { sql, params, method: 'first' } });
      return column === undefined || row === null ? row : row[column];
    },
    run: () => call({ statement: { sql, params, method: 'run' } }),
  });
  return {
    prepare: (sql) => statement(sql),
    batch: (statements) => call({ batch: statements.map(({ sql, params }) => ({ sql, params })) }),
  };
}
