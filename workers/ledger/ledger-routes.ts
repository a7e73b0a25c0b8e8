import { Hono, type Context } from 'hono';
import { drizzle } from 'drizzle-orm/d1';
import { kickOutbox } from '../../shared/adapters/cloudflare/outbox-relay';
import { requestD1 } from '../../shared/adapters/cloudflare/traced-d1';
import { isHttpError } from '../../shared/http/problem';
import { publicPath } from '../../shared/http/public-path';
import type { AppEnv } from '../../shared/middleware/app-env';
import { outgoingTraceparent } from '../../shared/observability/trace-context';
import { validate } from '../../shared/validation/validate';
import { requireSignedIn, type Identity } from '../../shared/http/identity';
import { REPLAYED_HEADER } from '../../shared/http/idempotency-key';
import { accountNotFound, mayUse, type Account, type AccountCommand } from './account';
import { commandKeyClaim, isCommandKeyTaken, recordCommandKey, recordedCommand } from './command-keys';
import { AccountStore } from './account-store';
import type { LedgerBindings } from './env';
import { ledgerConfig } from './ledger-config';
import { projectAfterCommit } from './projections/projection-runner';
import { accountIdParam, asOfQuery, commandHeadersInput, movementInput, openHeadersInput, newAccountId, openAccountInput, toAccountView, type CommandHeaders } from './ledger-schemas';

type LedgerContext = Context<AppEnv<LedgerBindings>>;

/** The event store over the request's D1: each query and batch a span of the request (traced-d1.ts). */
const accountStore = (c: LedgerContext) => new AccountStore(drizzle(requestD1(c)), { snapshotEvery: ledgerConfig(c.env).LEDGER_SNAPSHOT_EVERY });

/** The version as an entity tag, so a client can send it back as If-Match. */
const etag = (account: Account) => ({ etag: `"${account.version}"` });

/** The caller (ledger routes run only for a signed-in user: `requireSignedIn` below). */
const identityOf = (c: LedgerContext): Identity => c.get('identity')!;

interface CommandCall {
  accountId: string;
  command: AccountCommand;
  /** The client's If-Match. */
  expectedVersion?: number;
  /** The client's Idempotency-Key, and the body it was sent with (for the fingerprint). */
  idempotency?: { key: string; body: unknown };
}

interface CommandResult {
  accountId: string;
  account: Account;
  /** True when this answers a command that ran before under the same Idempotency-Key. */
  replayed: boolean;
}

/**
 * Runs a command for the caller and kicks the outbox relay (its events' rows committed with
 * them): the answer does not wait on QStash. With an Idempotency-Key, a key already recorded
 * answers the first run's result (the account as of the version it reached) without running
 * anything, and a twin racing this one is settled by the key's primary key (command-keys.ts).
 */
async function run(c: LedgerContext, call: CommandCall): Promise<CommandResult> {
  const identity = identityOf(c);
  const store = accountStore(c);
  const db = drizzle(requestD1(c));
  const operation = call.command.type === 'OpenAccount' ? 'OpenAccount' : `${call.command.type}:${call.accountId}`;
  const claim = call.idempotency && (await commandKeyClaim(identity.userId, call.idempotency.key, operation, call.idempotency.body));
  const replay = async (): Promise<CommandResult | undefined> => {
    const recorded = claim && (await recordedCommand(db, claim));
    if (!recorded) return undefined;
    const account = await store.loadAt(recorded.accountId, { version: recorded.version });
    if (!account) throw new Error(`idempotency key recorded at version ${recorded.version} of ${recorded.accountId}, which has no such version`);
    return { accountId: recorded.accountId, account, replayed: true };
  };
  // With a key, the account is loaded alongside the key's lookup (one round trip of waiting, not
  // two); execute decides on it if the key is new. Without one, execute loads it itself.
  const [earlier, loaded] = await Promise.all([replay(), claim ? store.load(call.accountId).then((state) => ({ state })) : undefined]);
  if (earlier) return earlier;
  const before = Date.now();
  let account: Account;
  try {
    account = await store.execute(call.accountId, call.command, {
      expectedVersion: call.expectedVersion,
      traceparent: outgoingTraceparent(c.get('trace')),
      actor: identity,
      loaded,
      alsoRecord: claim && ((version, now) => recordCommandKey(db, claim, call.accountId, version, now)),
    });
  } catch (error) {
    // A twin with the same key may have committed between our lookup and our decision: then our
    // append lost on the key (isCommandKeyTaken), or our decision saw the twin's effect and
    // refused (a withdrawal now short of funds: 422; If-Match now stale: 409). Either way the
    // command DID happen, once: answer the twin's result. The key row commits in the twin's own
    // batch, so finding it means exactly that; not finding it means the refusal stands.
    if (claim && (isCommandKeyTaken(error) || isHttpError(error))) {
      const twin = await replay();
      if (twin) return twin;
    }
    throw error;
  }
  kickOutbox(c.env, c.executionCtx, c.get('log'));
  projectAfterCommit(c.env, c.executionCtx, c.get('log'));
  c.get('log').info('ledger command', { accountId: call.accountId, command: call.command.type, version: account.version, ms: Date.now() - before });
  return { accountId: call.accountId, account, replayed: false };
}

/** ETag, and Idempotent-Replayed on a replay. */
const commandHeaders = ({ account, replayed }: CommandResult) => ({ ...etag(account), ...(replayed ? { [REPLAYED_HEADER]: 'true' } : {}) });

/** A movement (deposit or withdrawal) with its optional If-Match and Idempotency-Key. */
async function move(c: LedgerContext, id: string, type: 'Deposit' | 'Withdraw', amountCents: number, headers: CommandHeaders) {
  const result = await run(c, {
    accountId: id,
    command: { type, amountCents },
    expectedVersion: headers['if-match'],
    idempotency: headers['idempotency-key'] === undefined ? undefined : { key: headers['idempotency-key'], body: { amountCents } },
  });
  return c.json({ accountId: id, balanceCents: result.account.balanceCents, version: result.account.version }, 200, commandHeaders(result));
}

export const ledgerRoutes = new Hono<AppEnv<LedgerBindings>>()
  .use('*', requireSignedIn)
  /** Opens an account held by the caller; `owner` is the holder's name as it should read. */
  .post('/accounts', validate('header', openHeadersInput), validate('json', openAccountInput), async (c) => {
    const input = c.req.valid('json');
    const key = c.req.valid('header')['idempotency-key'];
    const result = await run(c, {
      accountId: newAccountId(),
      command: { type: 'OpenAccount', ...input, userId: identityOf(c).userId },
      idempotency: key === undefined ? undefined : { key, body: input },
    });
    const { accountId, account } = result;
    return c.json({ accountId, version: account.version }, 201, { ...commandHeaders(result), location: publicPath(c, `/ledger/accounts/${accountId}`) });
  })
  .post('/accounts/:id/deposits', validate('param', accountIdParam), validate('header', commandHeadersInput), validate('json', movementInput), (c) =>
    move(c, c.req.valid('param').id, 'Deposit', c.req.valid('json').amountCents, c.req.valid('header')),
  )
  .post('/accounts/:id/withdrawals', validate('param', accountIdParam), validate('header', commandHeadersInput), validate('json', movementInput), (c) =>
    move(c, c.req.valid('param').id, 'Withdraw', c.req.valid('json').amountCents, c.req.valid('header')),
  )
  .post('/accounts/:id/freeze', validate('param', accountIdParam), validate('header', commandHeadersInput), async (c) => {
    const { id } = c.req.valid('param');
    const headers = c.req.valid('header');
    const key = headers['idempotency-key'];
    const result = await run(c, { accountId: id, command: { type: 'Freeze' }, expectedVersion: headers['if-match'], idempotency: key === undefined ? undefined : { key, body: {} } });
    return c.json(toAccountView(id, result.account), 200, commandHeaders(result));
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
      const past = await accountStore(c).loadAt(id, point);
      if (!past || !mayUse(past, identityOf(c))) throw accountNotFound();
      return c.json(toAccountView(id, past), 200);
    }
    const account = await accountStore(c).load(id);
    if (!account || !mayUse(account, identityOf(c))) throw accountNotFound();
    return c.json(toAccountView(id, account), 200, etag(account));
  });
