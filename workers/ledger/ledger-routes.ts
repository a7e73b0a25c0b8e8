import { Hono, type Context } from 'hono';
import { drizzle } from 'drizzle-orm/d1';
import { kickOutbox } from '../../shared/adapters/cloudflare/outbox-relay';
import { unauthorized } from '../../shared/http/problem';
import { publicPath } from '../../shared/http/public-path';
import type { AppEnv } from '../../shared/middleware/app-env';
import { outgoingTraceparent } from '../../shared/observability/trace-context';
import { validate } from '../../shared/validation/validate';
import { accountNotFound, type Account, type AccountCommand } from './account';
import { AccountStore } from './account-store';
import type { LedgerBindings } from './env';
import { ledgerConfig } from './ledger-config';
import { projectAfterCommit } from './projections/projection-runner';
import { accountIdParam, asOfQuery, ifMatchHeader, movementInput, newAccountId, openAccountInput, toAccountView } from './ledger-schemas';

type LedgerContext = Context<AppEnv<LedgerBindings>>;

export const accountStore = (env: LedgerBindings) => new AccountStore(drizzle(env.DB), { snapshotEvery: ledgerConfig(env).LEDGER_SNAPSHOT_EVERY });

/** The version as an entity tag, so a client can send it back as If-Match. */
const etag = (account: Account) => ({ etag: `"${account.version}"` });

/**
 * Runs a command and kicks the outbox relay (its events' rows committed with them): the answer
 * does not wait on QStash.
 */
async function run(c: LedgerContext, accountId: string, command: AccountCommand, expectedVersion?: number): Promise<Account> {
  const before = Date.now();
  const account = await accountStore(c.env).execute(accountId, command, { expectedVersion, traceparent: outgoingTraceparent(c.get('trace')) });
  kickOutbox(c.env, c.executionCtx, c.get('log'));
  projectAfterCommit(c.env, c.executionCtx, c.get('log'));
  c.get('log').info('ledger command', { accountId, command: command.type, version: account.version, ms: Date.now() - before });
  return account;
}

/** Every ledger call is made for a signed-in user (the gateway requires a token on /api/ledger). */
const signedIn = async function signedIn(c: LedgerContext, next: () => Promise<void>) {
  if (!c.get('identity')) throw unauthorized('Authentication is required.', { 'www-authenticate': 'Bearer' });
  await next();
};

export const ledgerRoutes = new Hono<AppEnv<LedgerBindings>>()
  .use('*', signedIn)
  .post('/accounts', validate('json', openAccountInput), async (c) => {
    const accountId = newAccountId();
    const account = await run(c, accountId, { type: 'OpenAccount', ...c.req.valid('json') });
    return c.json({ accountId, version: account.version }, 201, { ...etag(account), location: publicPath(c, `/ledger/accounts/${accountId}`) });
  })
  .post('/accounts/:id/deposits', validate('param', accountIdParam), validate('header', ifMatchHeader), validate('json', movementInput), async (c) => {
    const { id } = c.req.valid('param');
    const account = await run(c, id, { type: 'Deposit', amountCents: c.req.valid('json').amountCents }, c.req.valid('header')['if-match']);
    return c.json({ accountId: id, balanceCents: account.balanceCents, version: account.version }, 200, etag(account));
  })
  .post('/accounts/:id/withdrawals', validate('param', accountIdParam), validate('header', ifMatchHeader), validate('json', movementInput), async (c) => {
    const { id } = c.req.valid('param');
    const account = await run(c, id, { type: 'Withdraw', amountCents: c.req.valid('json').amountCents }, c.req.valid('header')['if-match']);
    return c.json({ accountId: id, balanceCents: account.balanceCents, version: account.version }, 200, etag(account));
  })
  .post('/accounts/:id/freeze', validate('param', accountIdParam), validate('header', ifMatchHeader), async (c) => {
    const { id } = c.req.valid('param');
    const account = await run(c, id, { type: 'Freeze' }, c.req.valid('header')['if-match']);
    return c.json(toAccountView(id, account), 200, etag(account));
  })
  /**
   * The account now, or (time travel) as of `?asOfVersion=N` or `?asOf=<ISO-8601>`, rebuilt from
   * its events. 404 when there is no account at that point: a time before it was opened, version
   * 0, or a version it has not reached yet (the past only; "now" is the read without a query).
   * A past answer has no ETag: its version is not one to send back as If-Match.
   */
  .get('/accounts/:id', validate('param', accountIdParam), validate('query', asOfQuery), async (c) => {
    const { id } = c.req.valid('param');
    const point = c.req.valid('query');
    if (point) {
      const past = await accountStore(c.env).loadAt(id, point);
      if (!past) throw accountNotFound();
      return c.json(toAccountView(id, past), 200);
    }
    const account = await accountStore(c.env).load(id);
    if (!account) throw accountNotFound();
    return c.json(toAccountView(id, account), 200, etag(account));
  });
