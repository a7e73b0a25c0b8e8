import type { Context } from 'hono';
import type { AppEnv } from '../../middleware/app-env';
import { SpanKind, type Attributes, type SpanParent, type Tracer } from '../../observability/span';

const SQLITE = { 'db.system.name': 'sqlite' } as const;

/** The longest statement text a span keeps: enough for any query here, bounded for one that is not. */
const MAX_QUERY_TEXT = 1_000;

/** The statement's verb (`SELECT`, `INSERT`, `WITH`), for the span's name; `QUERY` when there is none. */
const verbOf = (query: string): string => /^\s*([A-Za-z]+)/.exec(query)?.[1]?.toUpperCase() ?? 'QUERY';

type Trace = <T>(name: string, attributes: Attributes, work: () => Promise<T>) => Promise<T>;

/**
 * A prepared statement whose executions are spans. The statement text (with `?` placeholders,
 * never the bound values) is kept on the span as `db.query.text`, so a slow bar in a waterfall
 * says which query it was.
 */
class TracedStatement {
  constructor(
    readonly inner: D1PreparedStatement,
    private readonly query: string,
    private readonly trace: Trace,
  ) {}

  bind(...values: unknown[]): D1PreparedStatement {
    return new TracedStatement(this.inner.bind(...values), this.query, this.trace) as unknown as D1PreparedStatement;
  }

  first<T = unknown>(colName: string): Promise<T | null>;
  first<T = Record<string, unknown>>(): Promise<T | null>;
  first<T>(colName?: string): Promise<T | null> {
    return this.execute(() => (colName === undefined ? this.inner.first<T>() : this.inner.first<T>(colName)));
  }

  run<T = Record<string, unknown>>(): Promise<D1Result<T>> {
    return this.execute(() => this.inner.run<T>());
  }

  all<T = Record<string, unknown>>(): Promise<D1Result<T>> {
    return this.execute(() => this.inner.all<T>());
  }

  raw<T = unknown[]>(options: { columnNames: true }): Promise<[string[], ...T[]]>;
  raw<T = unknown[]>(options?: { columnNames?: false }): Promise<T[]>;
  raw<T = unknown[]>(options?: { columnNames?: boolean }): Promise<[string[], ...T[]] | T[]> {
    return this.execute<[string[], ...T[]] | T[]>(() => (options?.columnNames ? this.inner.raw<T>({ columnNames: true }) : this.inner.raw<T>()));
  }

  private execute<R>(work: () => Promise<R>): Promise<R> {
    const verb = verbOf(this.query);
    return this.trace(`D1 ${verb}`, { ...SQLITE, 'db.operation.name': verb, 'db.query.text': this.query.slice(0, MAX_QUERY_TEXT) }, work);
  }
}

/**
 * A D1 binding whose every round trip is a CLIENT span, a child of `parent`: `D1 batch` for one
 * `db.batch([...])` (one round trip and one transaction), `D1 <verb>` (`D1 SELECT`, `D1 INSERT`)
 * for one statement run on its own (`.first()`, `.all()`, `.run()`, `.raw()`), `D1 exec` for
 * `exec()`. Statements only prepared or bound cost nothing: a span is made when one executes.
 * With tracing off the binding itself is returned: no wrapper at all.
 *
 * A wrapper per request rather than an instrumented binding per isolate: the span's parent is the
 * request's (or the saga step's, or the delivery's), known where the database is opened, and
 * workerd has no context to find it from otherwise without AsyncLocalStorage (span.ts says why
 * that is not used). `withSession()` goes straight to the binding (nothing here uses sessions).
 */
export function tracedD1(db: D1Database, tracer: Tracer, parent: SpanParent): D1Database {
  if (!tracer.enabled) return db;
  const trace = <T>(name: string, attributes: Attributes, work: () => Promise<T>) => tracer.trace(name, SpanKind.CLIENT, parent, work, attributes);
  const traced: D1Database = {
    prepare: (query) => new TracedStatement(db.prepare(query), query, trace) as unknown as D1PreparedStatement,
    batch: (statements) =>
      trace('D1 batch', { ...SQLITE, 'db.operation.name': 'BATCH', 'db.operation.batch.size': statements.length }, () =>
        // D1 takes only its own statements: a wrapper made by `prepare` above hands its inner one.
        db.batch(statements.map((s) => (s instanceof TracedStatement ? s.inner : s))),
      ),
    exec: (query) => trace('D1 exec', { ...SQLITE, 'db.operation.name': 'EXEC' }, () => db.exec(query)),
    withSession: (constraintOrBookmark) => db.withSession(constraintOrBookmark),
    dump: () => db.dump(),
  };
  return traced;
}

/** The request's D1 (`c.env.DB`), each of its round trips a span of the request's own span. */
export const requestD1 = <Bindings extends { DB: D1Database }>(c: Context<AppEnv<Bindings>>): D1Database =>
  tracedD1(c.env.DB, c.get('telemetry').tracer, c.get('trace'));

/** A service's readiness check of its D1: one `SELECT 1`, a span of the `/ready` request like any other query. */
export const d1ReadyCheck =
  <Bindings extends { DB: D1Database }>(c: Context<AppEnv<Bindings>>) =>
  async (): Promise<void> => {
    await requestD1(c).prepare('SELECT 1').first();
  };
