import type { Logger } from '../../observability/logger';

/**
 * Retention for a D1 table that grows with traffic (docs/architecture.md, decision 8): a service's cron
 * deletes the rows older than their horizon, oldest first, at most `limit` per tick, so a backlog
 * (a first deploy on a year of rows) is worked off over several ticks instead of one statement
 * that runs past the invocation's limits. Each rule names a time column with an index, so the
 * inner SELECT walks the index instead of scanning the table.
 *
 * Plain SQL rather than one drizzle query per table: the rules are data (README's retention
 * table lists the same ones), and the table and column names come from code, never from input.
 */
export interface RetentionRule {
  /** Shown in logs: what the rows are (`inbox`, `reservation tombstones`). */
  name: string;
  table: string;
  /** The time column compared with the horizon (indexed). */
  column: string;
  /** Epoch ms or ISO 8601, as the column stores it. */
  format: 'epoch-ms' | 'iso';
  /** Extra condition a row must meet to go (SQL over the table's columns), e.g. only settled rows. */
  where?: string;
  /** Rows of other tables that reference a doomed row: deleted first, in the same batch. */
  children?: readonly { table: string; column: string; references: string }[];
}

/** Rows one rule deletes at most per tick. */
export const RETENTION_BATCH = 500;

const selectDoomed = (rule: RetentionRule, key: string) =>
  `SELECT ${key} FROM ${rule.table} WHERE ${rule.column} < ?1${rule.where ? ` AND (${rule.where})` : ''} ORDER BY ${rule.column} LIMIT ?2`;

/** Deletes up to `limit` rows of `rule` older than `before` (epoch ms); answers how many went. */
export async function pruneOlderThan(db: D1Database, rule: RetentionRule, before: number, limit = RETENTION_BATCH): Promise<number> {
  const horizon = rule.format === 'iso' ? new Date(before).toISOString() : before;
  const statements = (rule.children ?? []).map((child) =>
    db.prepare(`DELETE FROM ${child.table} WHERE ${child.column} IN (${selectDoomed(rule, child.references)})`).bind(horizon, limit),
  );
  // The same SELECT as the children's, in the same batch (one transaction): the same rows.
  statements.push(db.prepare(`DELETE FROM ${rule.table} WHERE rowid IN (${selectDoomed(rule, 'rowid')})`).bind(horizon, limit));
  const results = await db.batch(statements);
  return results.at(-1)?.meta.changes ?? 0;
}

/**
 * One cron tick of a service's retention: each rule with its horizon, one after another; a
 * failure is logged and left to the next tick (nothing is half-deleted: each rule is one batch).
 */
export async function runRetention(
  db: D1Database,
  rules: readonly { rule: RetentionRule; keepMs: number }[],
  now: number,
  log: Logger,
  limit = RETENTION_BATCH,
): Promise<Record<string, number>> {
  const pruned: Record<string, number> = {};
  for (const { rule, keepMs } of rules) {
    try {
      pruned[rule.name] = await pruneOlderThan(db, rule, now - keepMs, limit);
    } catch (error) {
      log.error('retention prune failed; the next tick retries', { rule: rule.name, error });
    }
  }
  if (Object.values(pruned).some((count) => count > 0)) log.info('retention pruned rows', { pruned });
  return pruned;
}

/** The inbox of shared/adapters/cloudflare/inbox-table.ts, by `received_at`. */
export const INBOX_RETENTION: RetentionRule = { name: 'inbox', table: 'inbox', column: 'received_at', format: 'epoch-ms' };
