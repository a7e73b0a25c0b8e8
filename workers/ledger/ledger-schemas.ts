import { z } from 'zod';
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

export interface AccountView {
  accountId: string;
  owner: string;
  balanceCents: number;
  currency: string;
  status: Account['status'];
  version: number;
}

export const toAccountView = (accountId: string, account: Account): AccountView => ({
  accountId,
  owner: account.owner,
  balanceCents: account.balanceCents,
  currency: account.currency,
  status: account.status,
  version: account.version,
});

export const newAccountId = (random: () => string = () => crypto.randomUUID()) => `acc_${random()}`;
