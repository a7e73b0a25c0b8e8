import { describe, expect, it } from 'vitest';
import { MAX_AMOUNT_CENTS } from '../../../workers/ledger/account';
import { count, openAccount, post } from './support';

const invalidAmounts: [string, unknown][] = [
  ['negative', -100],
  ['zero', 0],
  ['fractional', 10.5],
  ['huge', MAX_AMOUNT_CENTS + 1],
  ['unsafe', 2 ** 53],
  ['a numeric string', '100'],
  ['a word', 'ten'],
  ['null', null],
  ['missing', undefined],
];

describe('ledger amounts', () => {
  for (const path of ['deposits', 'withdrawals']) {
    for (const [name, amountCents] of invalidAmounts) {
      it(`${path}: ${name} is 400 and writes nothing`, async () => {
        const id = await openAccount(1000);
        const [events, outbox] = [await count('events'), await count('outbox')];
        const response = await post(`/ledger/accounts/${id}/${path}`, amountCents === undefined ? {} : { amountCents });
        expect(response.status).toBe(400);
        expect(((await response.json()) as { errors?: { path: string }[] }).errors?.[0]?.path).toBe('amountCents');
        expect([await count('events'), await count('outbox')]).toEqual([events, outbox]);
      });
    }
  }

  for (const [name, initialDepositCents] of invalidAmounts.filter(([name]) => !['zero', 'missing'].includes(name))) {
    it(`opening with a ${name} initial deposit is 400 and writes nothing`, async () => {
      const events = await count('events');
      const response = await post('/ledger/accounts', { owner: 'Ada', currency: 'EUR', initialDepositCents });
      expect(response.status).toBe(400);
      expect(await count('events')).toBe(events);
    });
  }

  it('a body that is not JSON-shaped right (a currency that is not ISO, an unknown field) is 400', async () => {
    expect((await post('/ledger/accounts', { owner: 'Ada', currency: 'euro' })).status).toBe(400);
    expect((await post('/ledger/accounts', { owner: 'Ada', currency: 'EUR', balanceCents: 5 })).status).toBe(400);
  });
});
