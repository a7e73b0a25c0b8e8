import type { Context } from 'hono';
import type { AppEnv } from '../../middleware/app-env';
import { SpanKind, type SpanParent, type Tracer } from '../../observability/span';

/**
 * A D1 binding whose `batch()` is a span (`D1 batch`, a child of `parent`): a batch is one round
 * trip and one transaction, the unit worth seeing in a waterfall. Everything else goes straight
 * to the binding. With tracing off the binding itself is returned: no wrapper at all.
 *
 * A wrapper per request rather than an instrumented binding per isolate: the span's parent is the
 * request's (or the saga step's), known where the database is opened, and workerd has no context
 * to find it from otherwise without AsyncLocalStorage (span.ts says why that is not used).
 */
export function tracedD1(db: D1Database, tracer: Tracer, parent: SpanParent): D1Database {
  if (!tracer.enabled) return db;
  const traced: D1Database = {
    prepare: (query) => db.prepare(query),
    batch: (statements) =>
      tracer.trace('D1 batch', SpanKind.CLIENT, parent, () => db.batch(statements), {
        'db.system.name': 'sqlite',
        'db.operation.name': 'BATCH',
        'db.operation.batch.size': statements.length,
      }),
    exec: (query) => db.exec(query),
    withSession: (constraintOrBookmark) => db.withSession(constraintOrBookmark),
    dump: () => db.dump(),
  };
  return traced;
}

/** The request's D1 (`c.env.DB`), its batches spans of the request's own span. */
export const requestD1 = <Bindings extends { DB: D1Database }>(c: Context<AppEnv<Bindings>>): D1Database =>
  tracedD1(c.env.DB, c.get('telemetry').tracer, c.get('trace'));
