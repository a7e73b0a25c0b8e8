import { sql, eq } from 'drizzle-orm';
import type { DrizzleD1Database } from 'drizzle-orm/d1';
import { products } from './schema';

/**
 * Product views, added up per isolate and written in one D1 batch at most once per interval,
 * instead of one UPDATE per product read. The first view after a flush schedules the next one
 * and hands back its promise (for that request's `waitUntil`); other views only count. A flush
 * that fails loses its counts: a view count is a popularity signal, not a ledger.
 */
export class ViewCounter {
  private pending = new Map<string, number>();
  private scheduled = false;

  constructor(
    private readonly intervalMs: number,
    private readonly sleep: (ms: number) => Promise<void> = (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  ) {}

  /** Counts one view of `id`; returns the flush to wait for when this view scheduled it. */
  count(id: string, db: DrizzleD1Database): Promise<void> | undefined {
    this.pending.set(id, (this.pending.get(id) ?? 0) + 1);
    if (this.scheduled) return undefined;
    this.scheduled = true;
    return this.sleep(this.intervalMs).then(() => {
      this.scheduled = false;
      return this.flush(db);
    });
  }

  private async flush(db: DrizzleD1Database): Promise<void> {
    const counts = [...this.pending];
    this.pending = new Map();
    if (counts.length === 0) return;
    // Each UPDATE is one atomic increment (never read-then-write), so other isolates' flushes add up.
    const [first, ...rest] = counts.map(([id, n]) => db.update(products).set({ views: sql`${products.views} + ${n}` }).where(eq(products.id, id)));
    await db.batch([first!, ...rest]);
  }
}
