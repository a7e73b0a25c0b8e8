import type { OutboxDestination, OutboxRecord, OutboxStore, OutboxSummary } from '../../../shared/outbox/outbox-message';

export interface MemoryOutboxRow extends OutboxRecord {
  lastError: string | null;
  sentAt: number | null;
  messageIds: string[] | null;
  claimedBy: string | null;
  claimedUntil: number | null;
  deadAt: number | null;
}

/**
 * An OutboxStore in memory with the D1 store's semantics (claims, conditional outcomes), for the
 * dispatcher's unit tests. `failNextMarkSent` makes the next markSent throw (a database outage
 * right after a publish).
 */
export class MemoryOutbox implements OutboxStore {
  readonly rows = new Map<string, MemoryOutboxRow>();
  failNextMarkSent = false;
  /** Writes of sent rows so far (one per batch). */
  markSentCalls = 0;

  add(id: string, destination: OutboxDestination | string, at: number, body = JSON.stringify({ id })): MemoryOutboxRow {
    const row: MemoryOutboxRow = {
      id,
      destination: typeof destination === 'string' ? destination : JSON.stringify(destination),
      type: 'test.happened',
      body,
      attempts: 0,
      createdAt: at,
      nextAttemptAt: at,
      lastError: null,
      sentAt: null,
      messageIds: null,
      claimedBy: null,
      claimedUntil: null,
      deadAt: null,
    };
    this.rows.set(id, row);
    return row;
  }

  row(id: string): MemoryOutboxRow {
    const row = this.rows.get(id);
    if (!row) throw new Error(`no row ${id}`);
    return row;
  }

  async claim({ now, limit, claimer, leaseUntil }: { now: number; limit: number; claimer: string; leaseUntil: number }): Promise<OutboxRecord[]> {
    const due = [...this.rows.values()]
      .filter((row) => row.sentAt === null && row.deadAt === null && row.nextAttemptAt <= now && (row.claimedUntil === null || row.claimedUntil <= now))
      .sort((a, b) => a.nextAttemptAt - b.nextAttemptAt || a.createdAt - b.createdAt)
      .slice(0, limit);
    for (const row of due) {
      row.claimedBy = claimer;
      row.claimedUntil = leaseUntil;
    }
    return due.map(({ id, destination, type, body, attempts, createdAt, nextAttemptAt }) => ({ id, destination, type, body, attempts, createdAt, nextAttemptAt }));
  }

  async markSent(rows: { id: string; messageIds: string[] }[], { sentAt }: { claimer: string; sentAt: number }): Promise<void> {
    if (this.failNextMarkSent) {
      this.failNextMarkSent = false;
      throw new Error('D1_ERROR: database unavailable');
    }
    this.markSentCalls += 1;
    for (const { id, messageIds } of rows) {
      const row = this.row(id);
      if (row.sentAt === null) Object.assign(row, { sentAt, messageIds, claimedBy: null, claimedUntil: null });
    }
  }

  async markFailed(id: string, failure: { claimer: string; attempts: number; lastError: string; nextAttemptAt: number; deadAt?: number }): Promise<void> {
    const row = this.row(id);
    if (row.sentAt !== null || row.claimedBy !== failure.claimer) return;
    Object.assign(row, {
      attempts: failure.attempts,
      lastError: failure.lastError,
      nextAttemptAt: failure.nextAttemptAt,
      claimedBy: null,
      claimedUntil: null,
      deadAt: failure.deadAt ?? null,
    });
  }

  async summary(): Promise<OutboxSummary> {
    const unsent = [...this.rows.values()].filter((row) => row.sentAt === null);
    const pending = unsent.filter((row) => row.deadAt === null);
    return {
      pending: pending.length,
      sent: this.rows.size - unsent.length,
      dead: unsent.length - pending.length,
      oldestPendingAt: pending.length ? Math.min(...pending.map((row) => row.createdAt)) : null,
      nextAttemptAt: pending.length ? Math.min(...pending.map((row) => Math.max(row.nextAttemptAt, row.claimedUntil ?? 0))) : null,
    };
  }
}
