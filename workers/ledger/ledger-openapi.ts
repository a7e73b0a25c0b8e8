import { createRoute } from '@hono/zod-openapi';
import { z } from 'zod';
import { header, jsonBody, jsonResponse, problemExample, problemResponse, validationProblem, type HeadersObject } from '../../shared/openapi/describe';
import { accountIdParam, asOfQuery, commandHeadersInput, movementInput, openAccountInput, openHeadersInput, projectionParam, topQuery, transactionsQuery } from './ledger-schemas';
import { describesExactly, type SameShape } from '../../shared/openapi/same-type';
import type { AccountView } from './ledger-schemas';
import type { ProjectionName } from './projections/projection-runner';
import type { RebuildStatus } from './projections/rebuild-object';

/**
 * The ledger's public routes as OpenAPI, at its own paths (`/ledger/...`): the gateway maps them
 * to `/api/ledger/...` and adds its edge policy (workers/gateway/openapi). Requests are described
 * by the schemas ledger-routes.ts and read-routes.ts validate with.
 */

/** ledger-schemas.ts `AccountView`: the holder's name, never their user id. */
export const accountView = z.strictObject({
  accountId: z.string(),
  owner: z.string(),
  balanceCents: z.number().int(),
  currency: z.string(),
  status: z.enum(['open', 'frozen']),
  version: z.number().int().min(1),
});

/** projections/rebuild-object.ts `RebuildStatus`: a rebuild of one projection, running or ended. */
export const rebuildStatus = z.strictObject({
  name: z.enum(['balances', 'transactions'] satisfies ProjectionName[]),
  status: z.enum(['running', 'done', 'failed']),
  startedAt: z.iso.datetime(),
  finishedAt: z.iso.datetime().optional(),
  position: z.number().int().describe('The last event (global position) the rebuilt copy has applied.'),
  rows: z.number().int().optional().describe('Rows in the rebuilt copy (`done`).'),
  slices: z.number().int().describe('Invocations the rebuild has run in.'),
  error: z.string().optional(),
  reason: z.enum(['superseded', 'failing']).optional().describe('Why it `failed`: another rebuild took its shadow tables over, or too many failures in a row.'),
});

/** A rebuild under way, for the examples. */
const rebuilding = { name: 'balances' as const, status: 'running' as const, startedAt: '2026-11-23T12:00:00.000Z', position: 2_048, slices: 2 };
const noProjection = problemResponse(404, 'No such projection.', 'No projection named nope: balances or transactions (top is read from balances).');

/**
 * The projections' rebuild and status (read-routes.ts), under `base`: the operator reaches them as
 * `/_ops/projections` (the gateway's ops endpoints forward them), an admin as
 * `/api/ledger/projections` through the ledger route.
 */
export const projectionOperations = (base: string) => [
  createRoute({
    method: 'post',
    path: `${base}/{name}/rebuild`,
    summary: "Rebuild one of the ledger's read models",
    description:
      'From zero, into a shadow copy while writes go on, then swapped in. 200 when the first slice finished it; else 202 with its progress, `Location` (the status below) and `Retry-After`. A POST while one runs joins it. For operators and admins.',
    request: { params: projectionParam },
    responses: {
      200: jsonResponse('Rebuilt at once.', rebuildStatus, { ...rebuilding, status: 'done', finishedAt: '2026-11-23T12:00:01.000Z', rows: 1_204, slices: 1 }),
      202: jsonResponse('Running on: follow the Location.', rebuildStatus, rebuilding, { Location: { ...header.location, example: `${base}/balances` }, 'Retry-After': header.retryAfter }),
      403: problemResponse(403, 'Neither an operator nor an admin.', 'Rebuilding projections is for operators.'),
      404: noProjection,
      409: problemResponse(409, 'Another rebuild took this one\'s shadow tables over; the live copy is unchanged.', problemExample(409, 'The rebuild of balances failed: superseded. The live copy is unchanged.', { type: '/problems/rebuild-superseded' })),
      500: problemResponse(500, 'The rebuild failed; the live copy is unchanged.', problemExample(500, 'The rebuild of balances failed: D1 timeout. The live copy is unchanged.', { type: '/problems/rebuild-failed' })),
    },
  }),
  createRoute({
    method: 'get',
    path: `${base}/{name}`,
    summary: 'A read model now',
    description: "Where its live copy stands, the event store's head, and its current or last rebuild (`null` if never rebuilt).",
    request: { params: projectionParam },
    responses: {
      200: jsonResponse('The projection.', z.strictObject({ name: z.string(), position: z.number().int(), head: z.number().int(), rebuild: rebuildStatus.nullable() }), {
        name: 'balances',
        position: 5_120,
        head: 5_121,
        rebuild: rebuilding,
      }),
      403: problemResponse(403, 'Neither an operator nor an admin.', 'Rebuilding projections is for operators.'),
      404: noProjection,
    },
  }),
];

const ACCOUNT_ID = 'acc_3f1d2c4b-5a6e-4f70-8192-a3b4c5d6e7f8';
const account = { accountId: ACCOUNT_ID, owner: 'ada', balanceCents: 9_200, currency: 'EUR', status: 'open' as const, version: 4 };
const movement = z.strictObject({ accountId: z.string(), balanceCents: z.number().int(), version: z.number().int() });

const written: HeadersObject = { ETag: header.etag, 'Idempotent-Replayed': header.idempotentReplayed };
const noAccount = problemResponse(404, "No such account, or not the caller's (the same answer).", problemExample(404, 'No such account.', { type: '/problems/account-not-found' }));
const stale = problemResponse(409, 'If-Match named another version: read the account again.', problemExample(409, 'The account is at version 4, not 1: read it again.', { type: '/problems/stale-version' }));
const keyReused = problemExample(422, 'This Idempotency-Key was already used with a different request; use a new key for a new request.', { type: '/problems/idempotency-key-reused' });
const badAmount = problemResponse(400, 'Not a positive integer amount, a bad header, or not an account id.', validationProblem([{ path: 'amountCents', message: 'Invalid input: expected number, received string' }]));

const COMMAND_HEADERS =
  'Optional `If-Match: "<version>"` (the ETag read): written only if the account is still at that version, else 409. Optional `Idempotency-Key`: a retry with the same key is answered with the first result (`Idempotent-Replayed: true`), not run again; the same key with another body is 422.';

const moveRoute = (kind: 'deposits' | 'withdrawals') =>
  createRoute({
    method: 'post',
    path: `/ledger/accounts/{id}/${kind}`,
    summary: kind === 'deposits' ? 'Deposit' : 'Withdraw',
    description: COMMAND_HEADERS,
    request: { params: accountIdParam, headers: commandHeadersInput, body: jsonBody(movementInput, { amountCents: 2_500 }) },
    responses: {
      200: jsonResponse('The balance after it and the account\'s new version.', movement, { accountId: ACCOUNT_ID, balanceCents: kind === 'deposits' ? 11_700 : 6_700, version: 5 }, written),
      400: badAmount,
      404: noAccount,
      409: stale,
      422: problemResponse(
        422,
        kind === 'withdrawals' ? 'More than the balance, a frozen account, or a reused Idempotency-Key.' : 'A balance over the limit, or a reused Idempotency-Key.',
        kind === 'withdrawals' ? problemExample(422, 'The balance (9200) does not cover 999999.', { type: '/problems/insufficient-funds' }) : keyReused,
      ),
    },
  });

export const ledgerApi = [
  createRoute({
    method: 'post',
    path: '/ledger/accounts',
    summary: 'Open an account',
    description: 'Held by the caller; `owner` is the name it reads as. An optional `Idempotency-Key` makes a retry return the same account.',
    request: { headers: openHeadersInput, body: jsonBody(openAccountInput, { owner: 'ada', currency: 'EUR', initialDepositCents: 10_000 }) },
    responses: {
      201: jsonResponse('Opened.', z.strictObject({ accountId: z.string(), version: z.number().int() }), { accountId: ACCOUNT_ID, version: 1 }, { ...written, Location: header.location }),
      400: problemResponse(400, 'Not a valid account.', validationProblem([{ path: 'currency', message: 'must be an ISO 4217 code such as USD' }])),
      422: problemResponse(422, 'This Idempotency-Key opened a different account.', keyReused),
    },
  }),
  moveRoute('deposits'),
  moveRoute('withdrawals'),
  createRoute({
    method: 'post',
    path: '/ledger/accounts/{id}/freeze',
    summary: 'Freeze an account',
    description: `No money leaves a frozen account. ${COMMAND_HEADERS}`,
    request: { params: accountIdParam, headers: commandHeadersInput },
    responses: { 200: jsonResponse('The account, frozen.', accountView, { ...account, status: 'frozen', version: 5 }, written), 404: noAccount, 409: stale },
  }),
  createRoute({
    method: 'get',
    path: '/ledger/accounts/{id}',
    summary: 'An account, now or as it was',
    description:
      'Now (with its `ETag`), or rebuilt from its events as of `?asOfVersion=N` or `?asOf=<ISO-8601 with a zone>` (never both). 404 when there was no account at that point.',
    request: { params: accountIdParam, query: asOfQuery },
    responses: {
      200: jsonResponse('The account.', accountView, account, { ETag: { ...header.etag, description: 'Now only: the version to send back as If-Match.' } }),
      400: problemResponse(400, 'Both asOf and asOfVersion, or a time without a zone.', validationProblem([{ path: 'asOf', message: 'give asOfVersion or asOf, not both' }])),
      404: noAccount,
    },
  }),
  createRoute({
    method: 'get',
    path: '/ledger/accounts/{id}/transactions',
    summary: "An account's history",
    description: "Each event with the balance after it, oldest first, a page at a time; from the read model (it may miss the very last event for a few milliseconds). Its holder's or an admin's.",
    request: { params: accountIdParam, query: transactionsQuery },
    responses: {
      200: jsonResponse(
        'A page of the history.',
        z.strictObject({
          items: z.array(
            z.strictObject({ type: z.enum(['AccountOpened', 'MoneyDeposited', 'MoneyWithdrawn', 'AccountFrozen']), amountCents: z.number().int(), balanceAfterCents: z.number().int(), version: z.number().int(), at: z.iso.datetime() }),
          ),
          nextCursor: z.string().nullable(),
        }),
        {
          items: [
            { type: 'AccountOpened', amountCents: 10_000, balanceAfterCents: 10_000, version: 1, at: '2026-11-23T12:00:00.000Z' },
            { type: 'MoneyDeposited', amountCents: 2_500, balanceAfterCents: 12_500, version: 2, at: '2026-11-23T12:01:00.000Z' },
          ],
          nextCursor: 'eyJhZnRlciI6Mn0',
        },
      ),
      400: problemResponse(400, 'A bad limit or cursor.', validationProblem([{ path: 'cursor', message: 'Invalid cursor' }])),
      404: noAccount,
    },
  }),
  createRoute({
    method: 'get',
    path: '/ledger/top',
    summary: 'Accounts by balance (admin)',
    description: 'Highest first, from the read model; `?currency=` ranks one currency.',
    request: { query: topQuery },
    responses: {
      200: jsonResponse('The ranking.', z.strictObject({ items: z.array(accountView) }), { items: [account, { ...account, accountId: 'acc_0e9d8c7b-6a5f-4e3d-2c1b-0a9f8e7d6c5b', owner: 'bob', balanceCents: 1_800, version: 3 }] }),
      403: problemResponse(403, 'Not an admin.', 'The top balances are for admins.'),
    },
  }),
  ...projectionOperations('/ledger/projections'),
];

// The answers' schemas are exactly the handlers' types (shared/openapi/same-type.ts).
describesExactly<SameShape<z.output<typeof accountView>, AccountView>>();
describesExactly<SameShape<z.output<typeof rebuildStatus>, RebuildStatus>>();
