import { describe, expect, it } from 'vitest';
import { tracedD1 } from '../../../../shared/adapters/cloudflare/traced-d1';
import { DISABLED_TRACER, SpanKind, SpanStatus, Tracer, type SpanRecord } from '../../../../shared/observability/span';

const PARENT = { traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: '00f067aa0ba902b7', flags: '01' };

/** A statement of the fake binding: what it was prepared with and bound to. */
class FakeStatement {
  constructor(
    readonly query: string,
    readonly values: unknown[] = [],
  ) {}
  bind(...values: unknown[]) {
    return new FakeStatement(this.query, values);
  }
  async first(column?: string) {
    if (this.query.includes('broken')) throw new Error('D1_ERROR: no such table: broken');
    return column ? 1 : { n: 1 };
  }
  async run() {
    return { results: [], success: true, meta: {} };
  }
  async all() {
    return { results: [{ n: 1 }], success: true, meta: {} };
  }
  async raw(options?: { columnNames?: boolean }) {
    return options?.columnNames ? [['n'], [1]] : [[1]];
  }
}

/** A D1 stand-in whose batch, like D1's, takes only its own statements. */
function fakeD1() {
  const batches: FakeStatement[][] = [];
  const db = {
    prepare: (query: string) => new FakeStatement(query),
    batch: async (statements: unknown[]) => {
      if (!statements.every((s) => s instanceof FakeStatement)) throw new TypeError('batch takes D1 statements only');
      batches.push(statements as FakeStatement[]);
      return statements.map(() => ({ results: [], success: true, meta: {} }));
    },
    exec: async () => ({ count: 1, duration: 0 }),
    withSession: () => {
      throw new Error('not used');
    },
    dump: async () => new ArrayBuffer(0),
  };
  return { db: db as unknown as D1Database, batches };
}

function recordingTracer() {
  const spans: SpanRecord[] = [];
  return { tracer: new Tracer({ span: (record) => spans.push(record) }), spans };
}

describe('tracedD1', () => {
  it('is the binding itself when tracing is off: no wrapper, no span', () => {
    const { db } = fakeD1();
    expect(tracedD1(db, DISABLED_TRACER, PARENT)).toBe(db);
  });

  it('makes one CLIENT span per statement run on its own, named by its verb, under the parent, with the query text but not the values', async () => {
    const { db } = fakeD1();
    const { tracer, spans } = recordingTracer();
    const traced = tracedD1(db, tracer, PARENT);
    const select = traced.prepare('SELECT n FROM t WHERE id = ?');
    // Preparing and binding are free: nothing has gone to the database yet.
    const bound = select.bind('secret-id');
    expect(spans).toEqual([]);

    expect(await bound.first()).toEqual({ n: 1 });
    expect(await bound.first('n')).toBe(1);
    expect((await traced.prepare('  insert INTO t VALUES (?)').bind(2).run()).success).toBe(true);
    expect((await traced.prepare('UPDATE t SET n = 2').all()).results).toEqual([{ n: 1 }]);
    expect(await traced.prepare('DELETE FROM t').raw()).toEqual([[1]]);
    expect(await traced.prepare('WITH x AS (SELECT 1) SELECT * FROM x').raw({ columnNames: true })).toEqual([['n'], [1]]);

    expect(spans.map((s) => [s.name, s.kind, s.parentSpanId, s.traceId])).toEqual([
      ['D1 SELECT', SpanKind.CLIENT, PARENT.spanId, PARENT.traceId],
      ['D1 SELECT', SpanKind.CLIENT, PARENT.spanId, PARENT.traceId],
      ['D1 INSERT', SpanKind.CLIENT, PARENT.spanId, PARENT.traceId],
      ['D1 UPDATE', SpanKind.CLIENT, PARENT.spanId, PARENT.traceId],
      ['D1 DELETE', SpanKind.CLIENT, PARENT.spanId, PARENT.traceId],
      ['D1 WITH', SpanKind.CLIENT, PARENT.spanId, PARENT.traceId],
    ]);
    expect(spans[0]!.attributes).toEqual({ 'db.system.name': 'sqlite', 'db.operation.name': 'SELECT', 'db.query.text': 'SELECT n FROM t WHERE id = ?' });
    expect(JSON.stringify(spans)).not.toContain('secret-id');
  });

  it('makes one span for a batch and hands D1 its own statements, bound as they were', async () => {
    const { db, batches } = fakeD1();
    const { tracer, spans } = recordingTracer();
    const traced = tracedD1(db, tracer, PARENT);
    await traced.batch([traced.prepare('INSERT INTO t VALUES (?)').bind(1), traced.prepare('INSERT INTO t VALUES (?)').bind(2)]);

    expect(batches).toHaveLength(1);
    expect(batches[0]!.map((s) => [s.query, s.values])).toEqual([
      ['INSERT INTO t VALUES (?)', [1]],
      ['INSERT INTO t VALUES (?)', [2]],
    ]);
    expect(spans.map((s) => [s.name, s.kind, s.attributes])).toEqual([
      ['D1 batch', SpanKind.CLIENT, { 'db.system.name': 'sqlite', 'db.operation.name': 'BATCH', 'db.operation.batch.size': 2 }],
    ]);
  });

  it('ends the span as an error with the message when the statement fails, and rethrows', async () => {
    const { db } = fakeD1();
    const { tracer, spans } = recordingTracer();
    await expect(tracedD1(db, tracer, PARENT).prepare('SELECT * FROM broken').first()).rejects.toThrow('no such table');
    expect(spans.map((s) => [s.name, s.status, s.attributes?.['exception.message']])).toEqual([['D1 SELECT', SpanStatus.ERROR, 'D1_ERROR: no such table: broken']]);
  });

  it('keeps at most 1,000 characters of a statement', async () => {
    const { db } = fakeD1();
    const { tracer, spans } = recordingTracer();
    await tracedD1(db, tracer, PARENT).prepare(`SELECT ${'x, '.repeat(1_000)}1`).run();
    expect(String(spans[0]!.attributes?.['db.query.text'])).toHaveLength(1_000);
  });
});
