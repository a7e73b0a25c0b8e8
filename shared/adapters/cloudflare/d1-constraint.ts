/**
 * Which SQLite constraint refused a D1 statement, read from the error D1 throws (the message is
 * SQLite's, e.g. `D1_ERROR: CHECK constraint failed: products_stock_not_negative:
 * SQLITE_CONSTRAINT`), looking through wrappers' `cause`s (drizzle wraps some). A batch is one
 * transaction, so a constraint that refuses one statement undoes the whole batch: services use
 * that to make a multi-row change all-or-nothing and then ask here why it was refused.
 *
 * Null when the error is not a constraint failure (an outage, a bug): rethrow those.
 */
export type ConstraintKind = 'unique' | 'check' | 'foreign-key' | 'not-null';

export interface ConstraintFailure {
  kind: ConstraintKind;
  /**
   * What SQLite names: the CHECK's name, or `table.column` for UNIQUE / NOT NULL (a UNIQUE over
   * several columns: `table.a, table.b`); '' for a foreign key.
   */
  target: string;
}

const PATTERNS: [ConstraintKind, RegExp][] = [
  ['unique', /UNIQUE constraint failed: ([^:\s,]+(?:, [^:\s,]+)*)/],
  ['check', /CHECK constraint failed: ([^:\s]+)/],
  ['foreign-key', /FOREIGN KEY constraint failed()/],
  ['not-null', /NOT NULL constraint failed: ([^:\s]+)/],
];

export function constraintFailure(error: unknown): ConstraintFailure | null {
  for (let current = error, depth = 0; current && depth < 5; current = (current as { cause?: unknown }).cause, depth++) {
    const message = current instanceof Error ? current.message : typeof current === 'string' ? current : '';
    for (const [kind, pattern] of PATTERNS) {
      const match = pattern.exec(message);
      if (match) return { kind, target: match[1] ?? '' };
    }
  }
  return null;
}
