// [8] The event-sourced ledger: two accounts, money moved from one to the other, and the first
// account read as it was at an earlier version (replayed from its events).
import { expectThat } from '../http-client.mjs';

/** An account id cut for a line (`acc_381b37ce…`): the full one is in the answer above. */
const short = (accountId) => `${accountId.slice(0, 12)}…`;

/** The part of an account answer the step is about. */
const balance = (answer) => {
  const { balanceCents, currency, version, status } = answer.body ?? {};
  return answer.status < 300 ? { balanceCents, ...(currency ? { currency } : {}), version, ...(status ? { status } : {}) } : answer.body;
};

export const ledger = {
  title: 'Move money between two accounts, then read the past',
  pattern: 'event sourcing (every change an event, state replayed to any version), optimistic concurrency',
  async run({ call, show, state }) {
    const token = state.token;
    const open = async (owner, initialDepositCents) => {
      const body = { owner, currency: 'EUR', ...(initialDepositCents ? { initialDepositCents } : {}) };
      const opened = await call('POST', '/api/ledger/accounts', { token, body });
      show('POST', `/api/ledger/accounts  ${JSON.stringify(body)}`, opened, ['etag']);
      expectThat(opened.status === 201 && typeof opened.body?.accountId === 'string', `opening an account answered ${opened.status}, not 201`);
      return opened.body.accountId;
    };
    const from = await open('demo-ada', 10_000);
    const to = await open('demo-bob');
    const move = async (accountId, kind, amountCents) => {
      const moved = await call('POST', `/api/ledger/accounts/${accountId}/${kind}`, { token, body: { amountCents } });
      show('POST', `/api/ledger/accounts/${short(accountId)}/${kind}  {"amountCents":${amountCents}}`, moved, [], balance(moved));
      expectThat(moved.status === 200, `the ${kind.slice(0, -1)} answered ${moved.status}, not 200`);
      return moved.body;
    };
    await move(from, 'withdrawals', 2_500);
    await move(to, 'deposits', 2_500);
    // A write against a version the client read earlier is refused: someone wrote since.
    const stale = await call('POST', `/api/ledger/accounts/${from}/deposits`, { token, body: { amountCents: 100 }, headers: { 'if-match': '"1"' } });
    show('POST', `/api/ledger/accounts/${short(from)}/deposits  {"amountCents":100}  (If-Match: "1")`, stale, [], stale.body?.type ?? stale.body);
    expectThat(stale.status === 409, `a deposit with a stale If-Match answered ${stale.status}, not 409`);
    const now = await call('GET', `/api/ledger/accounts/${from}`, { token });
    show('GET', `/api/ledger/accounts/${short(from)}`, now, ['etag'], balance(now));
    const past = await call('GET', `/api/ledger/accounts/${from}?asOfVersion=1`, { token });
    show('GET', `/api/ledger/accounts/${short(from)}?asOfVersion=1`, past, [], balance(past));
    expectThat(now.status === 200 && now.body?.balanceCents === 7_500 && now.body?.version === 2, `now the account reads ${now.status} ${JSON.stringify(now.body)}, not 7500 at version 2`);
    expectThat(past.status === 200 && past.body?.balanceCents === 10_000 && past.body?.version === 1, `as of version 1 it reads ${past.status} ${JSON.stringify(past.body)}, not 10000 at version 1`);
    return `75.00 EUR now (version 2), 100.00 EUR as of version 1: the past replayed from the account's events; a write from a stale version refused with 409`;
  },
};
