import { runInDurableObject } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';

/**
 * The migrations on rows the old code wrote: run in a Durable Object's own SQLite (a database of
 * its own, so the shared test D1 is left alone), statement by statement as wrangler applies them.
 * PRAGMA foreign_keys is skipped: a Durable Object does not allow it, and nothing references mails.
 */
async function inScratchDatabase<T>(run: (exec: (query: string) => Record<string, unknown>[]) => T): Promise<T> {
  const stub = env.CHAOS.get(env.CHAOS.newUniqueId());
  return runInDurableObject(stub, (_, state) => run((query) => [...state.storage.sql.exec(query)]));
}

const migrations = env.TEST_MIGRATIONS as { name: string; queries: string[] }[];
const apply = (exec: (query: string) => unknown, names: (name: string) => boolean) => {
  for (const migration of migrations.filter((m) => names(m.name))) {
    for (const query of migration.queries) if (!/^\s*PRAGMA/i.test(query)) exec(query);
  }
};

describe('0001_mail_held_addressed on rows written before payment events named their customer', () => {
  it('addresses what an order event can address, and holds the rest: no mail queued or sent without a recipient', async () => {
    const rows = await inScratchDatabase((exec) => {
      apply(exec, (name) => name.startsWith('0000_'));
      exec(`INSERT INTO notifications (id, event_id, kind, order_id, user_id) VALUES
        ('n_pay_a', 'e1', 'payment.charged', 'ord_a', NULL),
        ('n_done_a', 'e2', 'order.completed', 'ord_a', 'u-a'),
        ('n_pay_b', 'e3', 'payment.charged', 'ord_b', NULL),
        ('n_pay_c', 'e4', 'payment.refunded', 'ord_c', NULL)`);
      exec(`INSERT INTO mails (id, notification_id, priority, template, recipient, status, attempts, sent_at) VALUES
        ('m_a', 'n_pay_a', 'transactional', 'payment-receipt', NULL, 'sent', 1, '2026-12-01T00:00:00.000Z'),
        ('m_a2', 'n_done_a', 'transactional', 'order-receipt', 'u-a', 'sent', 1, '2026-12-01T00:00:01.000Z'),
        ('m_b', 'n_pay_b', 'transactional', 'payment-receipt', NULL, 'sent', 2, '2026-12-01T00:00:02.000Z'),
        ('m_c', 'n_pay_c', 'transactional', 'payment-refunded', NULL, 'queued', 0, NULL)`);
      apply(exec, (name) => !name.startsWith('0000_'));
      return {
        mails: exec('SELECT id, recipient, status, sent_at FROM mails ORDER BY id'),
        users: exec('SELECT id, user_id FROM notifications ORDER BY id'),
      };
    });
    expect(rows.mails).toEqual([
      // Repaired: its order's other notification names the user.
      { id: 'm_a', recipient: 'u-a', status: 'sent', sent_at: '2026-12-01T00:00:00.000Z' },
      { id: 'm_a2', recipient: 'u-a', status: 'sent', sent_at: '2026-12-01T00:00:01.000Z' },
      // No user known: held (no longer claimed sent); the sweep releases or gives it up.
      { id: 'm_b', recipient: null, status: 'held', sent_at: null },
      { id: 'm_c', recipient: null, status: 'held', sent_at: null },
    ]);
    expect(rows.users).toEqual([
      { id: 'n_done_a', user_id: 'u-a' },
      { id: 'n_pay_a', user_id: 'u-a' },
      { id: 'n_pay_b', user_id: null },
      { id: 'n_pay_c', user_id: null },
    ]);
  });
});
