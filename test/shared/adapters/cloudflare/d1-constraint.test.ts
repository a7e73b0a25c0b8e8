import { describe, expect, it } from 'vitest';
import { constraintFailure } from '../../../../shared/adapters/cloudflare/d1-constraint';

describe('constraintFailure', () => {
  it('names the columns of a UNIQUE over several columns, as SQLite lists them', () => {
    const error = new Error('D1_ERROR: UNIQUE constraint failed: events.stream_id, events.version: SQLITE_CONSTRAINT (extended: SQLITE_CONSTRAINT_UNIQUE)');
    expect(constraintFailure(error)).toEqual({ kind: 'unique', target: 'events.stream_id, events.version' });
  });

  it('names the column of a single-column UNIQUE and the name of a CHECK', () => {
    expect(constraintFailure(new Error('D1_ERROR: UNIQUE constraint failed: outbox.id: SQLITE_CONSTRAINT'))).toEqual({ kind: 'unique', target: 'outbox.id' });
    expect(constraintFailure(new Error('D1_ERROR: CHECK constraint failed: products_stock_not_negative: SQLITE_CONSTRAINT'))).toEqual({
      kind: 'check',
      target: 'products_stock_not_negative',
    });
  });

  it("looks through wrappers' causes and answers null for anything else", () => {
    const wrapped = new Error('Failed query', { cause: new Error('NOT NULL constraint failed: events.version: SQLITE_CONSTRAINT') });
    expect(constraintFailure(wrapped)).toEqual({ kind: 'not-null', target: 'events.version' });
    expect(constraintFailure(new Error('D1_ERROR: network connection lost'))).toBeNull();
  });
});
