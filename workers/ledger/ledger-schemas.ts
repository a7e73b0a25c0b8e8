import { z } from 'zod';
import { idempotencyKeyHeader } from '../../shared/http/idempotency-key';
import type { Account } from './account';
import { MAX_AMOUNT_CENTS } from './account';

// z.number().int() accepts only safe integers, so 1e300, 0.5, -1 and "100" all fail here (400).
const amountCents = z.number().int().positive().max(MAX_AMOUNT_CENTS);

export const openAccountInput = z
  .object({
    owner: z.string().trim().min(1).max(200),
    currency: z.string().regex(/^[A-Z]{3}$/, 'must be an ISO 4217 code such as USD'),
    initialDepositCents: z.number().int().min(0).max(MAX_AMOUNT_CENTS).default(0),
  })
  .strict();

export const movementInput = z.object({ amountCents }).strict();

export const accountIdParam = z.object({ id: z.string().regex(/^acc_[0-9a-f-]{36}$/, 'must be an account id') });

/** `If-Match: "<version>"` (a weak `W/"<version>"` too): the version the client read. */
export const ifMatchHeader = z.object({
  'if-match': z
    .string()
    .regex(/^(W\/)?"(0|[1-9]\d{0,14})"$/, 'must be a quoted version, e.g. "3"')
    .transform((value) => Number(value.slice(value.indexOf('"') + 1, -1)))
    .optional(),
});

/**
 * A command's headers: If-Match (optional; not on opening, where there is no version yet) and Idempotency-Key (optional here, unlike orders: the
 * ledger's commands are also safe to send without one; with one, a retry is answered, not re-run).
 */
export const openHeadersInput = z.object({ 'idempotency-key': idempotencyKeyHeader.shape['idempotency-key'].optional() });
/**
 * If-Match is not part of a key's fingerprint (command-keys.ts): a retry is the same request
 * whatever version it was sent against, and answers what the first one did.
 */
export const commandHeadersInput = ifMatchHeader.extend(openHeadersInput.shape);
export type CommandHeaders = z.output<typeof commandHeadersInput>;

/**
 * Time travel (docs/api.md): `?asOfVersion=N` (a non-negative integer) or `?asOf=<ISO-8601>` (a date,
 * or a date-time with `Z` or an offset: a time without a zone would mean whatever zone the reader
 * assumed), never both. Anything else is 400. Answers `{version}`, `{at}` (epoch ms) or nothing.
 */
export const asOfQuery = z
  .object({
    asOfVersion: z
      .string()
      .regex(/^\d{1,15}$/, 'must be a non-negative integer version')
      .transform(Number)
      .optional(),
    asOf: z
      .union([z.iso.datetime({ offset: true }), z.iso.date()], { error: 'must be an ISO-8601 date or date-time with a zone, e.g. 2026-04-20T10:00:00Z' })
      .transform((value) => Date.parse(value))
      .refine(Number.isFinite, 'must be a real date')
      .optional(),
  })
  .superRefine((query, context) => {
    if (query.asOfVersion !== undefined && query.asOf !== undefined) {
      context.addIssue({ code: 'custom', path: ['asOf'], message: 'give asOfVersion or asOf, not both' });
    }
  })
  .transform((query) => (query.asOfVersion !== undefined ? { version: query.asOfVersion } : query.asOf !== undefined ? { at: query.asOf } : null));

export const topQuery = z.object({
  limit: z.coerce.number().int().min(1).max(100).default(10),
  /** One currency's ranking; without it, every account by its minor units as they are. */
  currency: z
    .string()
    .regex(/^[A-Z]{3}$/, 'must be an ISO 4217 code such as USD')
    .optional(),
});

/** A page of an account's history: `limit` rows after the cursor's version (docs/api.md's paging, as the catalog). */
export const transactionsQuery = z.object({
  limit: z.coerce.number().int().min(1).max(500).default(100),
  cursor: z.string().max(200).optional(),
});

/** A projection by name (`balances`, `transactions`); an unknown one is the handler's 404, naming those there are. */
export const projectionParam = z.object({ name: z.string() });

export interface AccountView {
  accountId: string;
  owner: string;
  balanceCents: number;
  currency: string;
  status: Account['status'];
  version: number;
}

/** The public view: the holder's user id stays inside (only `owner`, the name, is shown). */
export const toAccountView = (accountId: string, account: Omit<Account, 'userId'>): AccountView => ({
  accountId,
  owner: account.owner,
  balanceCents: account.balanceCents,
  currency: account.currency,
  status: account.status,
  version: account.version,
});

export const newAccountId = (random: () => string = () => crypto.randomUUID()) => `acc_${random()}`;
