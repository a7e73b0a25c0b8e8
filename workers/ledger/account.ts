import type { Identity } from '../../shared/http/identity';
import { HttpError } from '../../shared/http/problem';

/**
 * The account aggregate: pure. `decide` checks a command against the state rebuilt from the
 * account's events and answers the new events (or throws a typed error); `evolve` folds one
 * event into the state. No I/O, no clock: the worker (account-store.ts) loads the events,
 * calls these and appends what `decide` returned with the version it loaded as the expected one.
 *
 * Money is integer minor units (docs/architecture.md, decision 6). The HTTP schema already refuses anything
 * but a positive safe integer up to MAX_AMOUNT_CENTS (400); `decide` checks it again, so a caller
 * that skips the schema (a test, a future RPC) cannot write a bad event either.
 */

/** Largest single movement, in minor units (1,000,000,000.00): a typo of extra zeros is refused. */
export const MAX_AMOUNT_CENTS = 100_000_000_000;
/** Largest balance an account may hold: far inside 2^53, so JSON numbers and sums stay exact. */
export const MAX_BALANCE_CENTS = 1_000_000_000_000_000;

export type AccountEvent =
  // `userId`: the signed-in user who opened it, its holder. Absent from events recorded before
  // accounts had holders: those accounts are an admin's only (`mayUse`).
  | { type: 'AccountOpened'; data: { owner: string; currency: string; initialDepositCents: number; userId?: string } }
  | { type: 'MoneyDeposited'; data: { amountCents: number } }
  | { type: 'MoneyWithdrawn'; data: { amountCents: number } }
  | { type: 'AccountFrozen'; data: Record<string, never> };

export type AccountCommand =
  | { type: 'OpenAccount'; owner: string; currency: string; initialDepositCents: number; userId: string }
  | { type: 'Deposit'; amountCents: number }
  | { type: 'Withdraw'; amountCents: number }
  | { type: 'Freeze' };

export interface Account {
  /** The holder's name, as given when the account was opened (a label, not an identity). */
  owner: string;
  /** The user who opened it: the only one besides an admin who may read or move its money. */
  userId: string | null;
  currency: string;
  balanceCents: number;
  status: 'open' | 'frozen';
  /** The version of the last event folded in: the stream's version. */
  version: number;
}

/** No events yet: the account does not exist. */
export type AccountState = Account | null;

export const initialState: AccountState = null;

// Typed errors (docs/api.md): the service's one onError turns them into problem+json.
export const accountNotFound = () => new HttpError(404, { type: 'account-not-found', detail: 'No such account.' });
export const accountExists = () => new HttpError(409, { type: 'account-exists', detail: 'The account is already open.' });
export const insufficientFunds = (balanceCents: number, amountCents: number) =>
  new HttpError(422, { type: 'insufficient-funds', detail: `The balance (${balanceCents}) does not cover ${amountCents}.` });
export const accountFrozen = () => new HttpError(422, { type: 'account-frozen', detail: 'The account is frozen: no money leaves it.' });
export const balanceLimit = () => new HttpError(422, { type: 'balance-limit', detail: `A balance cannot pass ${MAX_BALANCE_CENTS}.` });
export const invalidAmount = (amount: unknown) =>
  new HttpError(400, { type: 'invalid-amount', detail: `An amount must be a positive integer up to ${MAX_AMOUNT_CENTS}, not ${String(amount)}.` });

const isAmount = (value: number, allowZero = false) => Number.isSafeInteger(value) && value <= MAX_AMOUNT_CENTS && (allowZero ? value >= 0 : value > 0);

/**
 * Whether `identity` may read the account or command it: its holder, or an admin. Everyone else
 * is told the account does not exist (404, as orders does), so ids cannot be probed.
 */
export const mayUse = (account: Pick<Account, 'userId'>, identity: Identity): boolean =>
  identity.roles.includes('admin') || (account.userId !== null && account.userId === identity.userId);

/** The state after `event`. Events are facts: evolve never refuses one. */
export function evolve(state: AccountState, event: AccountEvent): AccountState {
  switch (event.type) {
    case 'AccountOpened':
      return {
        owner: event.data.owner,
        userId: event.data.userId ?? null,
        currency: event.data.currency,
        balanceCents: event.data.initialDepositCents,
        status: 'open',
        version: 1,
      };
    case 'MoneyDeposited':
      return state && { ...state, balanceCents: state.balanceCents + event.data.amountCents, version: state.version + 1 };
    case 'MoneyWithdrawn':
      return state && { ...state, balanceCents: state.balanceCents - event.data.amountCents, version: state.version + 1 };
    case 'AccountFrozen':
      return state && { ...state, status: 'frozen', version: state.version + 1 };
  }
}

/** The state the events make, from `from` (a snapshot's state) or from nothing. */
export const rebuild = (events: readonly AccountEvent[], from: AccountState = initialState): AccountState => events.reduce(evolve, from);

/**
 * The events `command` causes on `state`, or a typed error. Freezing a frozen account causes
 * nothing (an empty list): freeze is idempotent. A frozen account still takes deposits: the
 * freeze stops money leaving, as docs/api.md's withdrawals say.
 */
export function decide(command: AccountCommand, state: AccountState): AccountEvent[] {
  if (command.type === 'OpenAccount') {
    if (state) throw accountExists();
    if (!isAmount(command.initialDepositCents, true)) throw invalidAmount(command.initialDepositCents);
    const { owner, currency, initialDepositCents, userId } = command;
    return [{ type: 'AccountOpened', data: { owner, currency, initialDepositCents, userId } }];
  }
  if (!state) throw accountNotFound();
  switch (command.type) {
    case 'Deposit':
      if (!isAmount(command.amountCents)) throw invalidAmount(command.amountCents);
      if (state.balanceCents + command.amountCents > MAX_BALANCE_CENTS) throw balanceLimit();
      return [{ type: 'MoneyDeposited', data: { amountCents: command.amountCents } }];
    case 'Withdraw':
      if (!isAmount(command.amountCents)) throw invalidAmount(command.amountCents);
      if (state.status === 'frozen') throw accountFrozen();
      if (command.amountCents > state.balanceCents) throw insufficientFunds(state.balanceCents, command.amountCents);
      return [{ type: 'MoneyWithdrawn', data: { amountCents: command.amountCents } }];
    case 'Freeze':
      return state.status === 'frozen' ? [] : [{ type: 'AccountFrozen', data: {} }];
  }
}
