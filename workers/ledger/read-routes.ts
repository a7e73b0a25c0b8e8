import { and, eq, max } from 'drizzle-orm';
import { drizzle, type DrizzleD1Database } from 'drizzle-orm/d1';
import { requestD1 } from '../../shared/adapters/cloudflare/traced-d1';
import { decodeCursor, encodeCursor, invalidCursor } from '../../shared/http/cursor';
import { Hono } from 'hono';
import { requireOps, requireRole, requireSignedIn } from '../../shared/http/identity';
import { HttpError, notFound } from '../../shared/http/problem';
import type { AppEnv } from '../../shared/middleware/app-env';
import { publicPath } from '../../shared/http/public-path';
import { validate } from '../../shared/validation/validate';
import { accountNotFound, mayUse, type Account } from './account';
import type { LedgerBindings } from './env';
import { accountIdParam, projectionParam, toAccountView, topQuery, transactionsQuery } from './ledger-schemas';
import { isProjectionName, readCheckpoint, type ProjectionName } from './projections/projection-runner';
import { topAccounts } from './projections/top';
import { accountTransactions } from './projections/transactions';
import { events, type BalanceRow, type TransactionRow } from './schema';

/**
 * The ledger's read side (CQRS): answers from the projections' tables, never from the events,
 * so they are as fresh as the projections' checkpoints (caught up right after every command and
 * by the cron). And the operator's rebuild of one projection.
 *
 * Mounted in index.ts before ledger-routes.ts, whose `use('*')` asks for a signed-in user: the
 * rebuild is called by the gateway's ops endpoint on no user's behalf.
 */
type LedgerEnv = AppEnv<LedgerBindings>;

/** The gateway's ops endpoints (service token with the ops scope), or an admin. */
const requireOperator = requireOps('Rebuilding projections is for operators.');

/** The version a `cursor` stands after; 0 for the first page (an empty cursor too, as the catalog). */
const afterVersionFrom = (cursor: string | undefined): number => {
  if (!cursor) return 0;
  const { after } = decodeCursor(cursor);
  if (typeof after !== 'number' || !Number.isSafeInteger(after) || after < 0) throw invalidCursor();
  return after;
};

/** The holder of account `id` from its first event (always there and never changing), or 404. */
async function holderOf(db: DrizzleD1Database<any>, id: string): Promise<Pick<Account, 'userId'>> {
  const opened = await db
    .select({ data: events.data })
    .from(events)
    .where(and(eq(events.streamId, id), eq(events.version, 1)))
    .get();
  if (!opened) throw accountNotFound();
  return { userId: (JSON.parse(opened.data) as { userId?: string }).userId ?? null };
}
/** A projection's name from the path, or 404 naming the ones there are. */
const projectionName = (name: string): ProjectionName => {
  if (!isProjectionName(name)) throw notFound(`No projection named ${name}: balances or transactions (top is read from balances).`);
  return name;
};

/** The rebuild object of projection `name` (one per name: one rebuild of it at a time, everywhere). */
const rebuilds = (env: LedgerBindings, name: ProjectionName) => env.REBUILDS.get(env.REBUILDS.idFromName(name));

/** The global position of the newest event (0 when there is none). */
const headPosition = async (db: DrizzleD1Database<any>): Promise<number> =>
  Number((await db.select({ head: max(events.globalPosition) }).from(events).get())?.head ?? 0);

const toTransactionView = (row: TransactionRow) => ({
  type: row.type,
  amountCents: row.amountCents,
  balanceAfterCents: row.balanceAfterCents,
  version: row.version,
  at: new Date(row.at).toISOString(),
});

const toTopView = (row: BalanceRow) => toAccountView(row.accountId, row);

export const readRoutes = new Hono<LedgerEnv>()
  /**
   * The account's history with the balance after each event, oldest first, a page at a time
   * (`nextCursor` while there is more). For its holder or an admin; 404 for anyone else, as for
   * an unknown account. The holder is read from the account's first event, not the projection:
   * an account opened a moment ago that the projection has not reached yet has an empty history
   * for that moment, not a missing one.
   */
  .get('/accounts/:id/transactions', requireSignedIn, validate('param', accountIdParam), validate('query', transactionsQuery), async (c) => {
    const { id } = c.req.valid('param');
    const { limit, cursor } = c.req.valid('query');
    const db = drizzle(requestD1(c));
    const afterVersion = afterVersionFrom(cursor);
    // The holder and the page are read at once (one round trip of waiting, not two); the page is
    // dropped unread if the caller may not see it. One row more than the page: whether there is
    // a next page, without a count.
    const [holder, rows] = await Promise.all([holderOf(db, id), accountTransactions(db, id, { afterVersion, limit: limit + 1 })]);
    if (!mayUse(holder, c.get('identity')!)) throw accountNotFound();
    const page = rows.slice(0, limit);
    const nextCursor = rows.length > limit ? encodeCursor({ after: page.at(-1)!.version }) : null;
    return c.json({ items: page.map(toTransactionView), nextCursor });
  })
  /** Accounts by balance, highest first: the balances projection through its index (projections/top.ts). */
  .get('/top', requireRole('admin'), validate('query', topQuery), async (c) => {
    const { limit, currency } = c.req.valid('query');
    const rows = await topAccounts(drizzle(requestD1(c)), limit, currency);
    return c.json({ items: rows.map(toTopView) });
  })
  /**
   * Rebuilds one projection from zero into its shadow tables while writes go on, then swaps it
   * in: the projection's ProjectionRebuild object runs it a slice per invocation
   * (projections/rebuild-object.ts). 200 with the result when the first slice finished it; else
   * 202 with its progress and a Location to follow (GET below). A POST while one runs joins it.
   * The gateway's POST /_ops/projections/:name/rebuild calls this.
   */
  .post('/projections/:name/rebuild', requireOperator, validate('param', projectionParam), async (c) => {
    const name = projectionName(c.req.valid('param').name);
    const status = await rebuilds(c.env, name).start(name);
    // Events committed after the rebuild's last page: the object's next alarm applies them to the
    // live copy from the swap's position (rebuild-object.ts catchUpLive).
    if (status.status === 'failed') {
      // Superseded: another rebuild took the shadow over (a conflict, 409); else a fault (500).
      const superseded = status.reason === 'superseded';
      throw new HttpError(superseded ? 409 : 500, {
        type: superseded ? 'rebuild-superseded' : 'rebuild-failed',
        detail: `The rebuild of ${name} failed: ${status.error ?? 'unknown error'}. The live copy is unchanged.`,
      });
    }
    if (status.status === 'running') return c.json(status, 202, { location: publicPath(c, `/ledger/projections/${name}`), 'retry-after': '1' });
    return c.json(status, 200);
  })
  /**
   * A projection now: where its live copy stands, the event store's head, and its current or
   * last rebuild (null if never rebuilt).
   */
  .get('/projections/:name', requireOperator, validate('param', projectionParam), async (c) => {
    const name = projectionName(c.req.valid('param').name);
    const db = drizzle(requestD1(c));
    const [position, head, rebuild] = await Promise.all([readCheckpoint(db, name), headPosition(db), rebuilds(c.env, name).status()]);
    return c.json({ name, position, head, rebuild });
  });
