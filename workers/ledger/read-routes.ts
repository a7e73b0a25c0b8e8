import { eq } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/d1';
import { Hono, type MiddlewareHandler } from 'hono';
import { z } from 'zod';
import { forbidden, notFound, unauthorized } from '../../shared/http/problem';
import type { AppEnv } from '../../shared/middleware/app-env';
import { validate } from '../../shared/validation/validate';
import { accountNotFound } from './account';
import type { LedgerBindings } from './env';
import { accountIdParam, toAccountView } from './ledger-schemas';
import { isProjectionName, projectEvents, rebuildProjection } from './projections/projection-runner';
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

const signedIn: MiddlewareHandler<LedgerEnv> = async function signedIn(c, next) {
  if (!c.get('identity')) throw unauthorized('Authentication is required.', { 'www-authenticate': 'Bearer' });
  await next();
};

/** The gateway's ops endpoints (service token with the ops scope), or an admin. */
const requireOps: MiddlewareHandler<LedgerEnv> = async function requireOps(c, next) {
  const ops = c.get('caller')?.scope === 'ops' || c.get('identity')?.roles.includes('admin');
  if (!ops) throw forbidden('Rebuilding projections is for operators.');
  await next();
};

export const topQuery = z.object({ limit: z.coerce.number().int().min(1).max(100).default(10) });
const projectionParam = z.object({ name: z.string() });

const toTransactionView = (row: TransactionRow) => ({
  type: row.type,
  amountCents: row.amountCents,
  balanceAfterCents: row.balanceAfterCents,
  version: row.version,
  at: new Date(row.at).toISOString(),
});

const toTopView = (row: BalanceRow) => toAccountView(row.accountId, row);

export const readRoutes = new Hono<LedgerEnv>()
  /** The account's history with the balance after each event, oldest first. */
  .get('/accounts/:id/transactions', signedIn, validate('param', accountIdParam), async (c) => {
    const { id } = c.req.valid('param');
    const db = drizzle(c.env.DB);
    const rows = await accountTransactions(db, id);
    if (rows.length === 0) {
      // None yet: an unknown account (404), or one opened a moment ago that the projection has
      // not reached (its history is then empty for that moment, not missing).
      const opened = await db.select({ version: events.version }).from(events).where(eq(events.streamId, id)).limit(1).get();
      if (!opened) throw accountNotFound();
    }
    return c.json({ items: rows.map(toTransactionView) });
  })
  /** Accounts by balance, highest first: the balances projection through its index (projections/top.ts). */
  .get('/top', signedIn, validate('query', topQuery), async (c) => {
    const rows = await topAccounts(drizzle(c.env.DB), c.req.valid('query').limit);
    return c.json({ items: rows.map(toTopView) });
  })
  /**
   * Rebuilds one projection from zero into its shadow tables while writes go on, then swaps it
   * in (projection-runner.ts). The gateway's POST /_ops/projections/:name/rebuild calls this.
   */
  .post('/projections/:name/rebuild', requireOps, validate('param', projectionParam), async (c) => {
    const { name } = c.req.valid('param');
    if (!isProjectionName(name)) throw notFound(`No projection named ${name}: balances or transactions (top is read from balances).`);
    const before = Date.now();
    const result = await rebuildProjection(c.env.DB, name);
    // Events committed after the rebuild's last page: the live runner applies them from its position.
    c.executionCtx.waitUntil(projectEvents(c.env.DB).catch((error: unknown) => c.get('log').error('projection catch-up failed', { error })));
    c.get('log').info('projection rebuilt', { ...result, ms: Date.now() - before });
    return c.json(result);
  });
