import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { projectEvents } from '../../../workers/ledger/projections/projection-runner';
import { get, openAccount, post } from './support';

interface Page {
  items: { version: number; balanceAfterCents: number }[];
  nextCursor: string | null;
}

describe('ledger transactions, a page at a time', () => {
  it('walks the whole history with nextCursor: every version once, in order, ending with null', async () => {
    const id = await openAccount(0);
    for (let i = 1; i <= 11; i++) await post(`/ledger/accounts/${id}/deposits`, { amountCents: i });
    await projectEvents(env.DB);
    const versions: number[] = [];
    let cursor: string | null = '';
    let pages = 0;
    while (cursor !== null) {
      const response = await get(`/ledger/accounts/${id}/transactions?limit=5&cursor=${cursor}`);
      expect(response.status).toBe(200);
      const page = (await response.json()) as Page;
      versions.push(...page.items.map((item) => item.version));
      cursor = page.nextCursor;
      pages++;
    }
    expect(versions).toEqual(Array.from({ length: 12 }, (_, i) => i + 1));
    expect(pages).toBe(3);
    // Exactly a page's worth left: the last full page says there is no next one.
    const exact = (await (await get(`/ledger/accounts/${id}/transactions?limit=12`)).json()) as Page;
    expect(exact.items).toHaveLength(12);
    expect(exact.nextCursor).toBeNull();
    expect(exact.items.at(-1)!.balanceAfterCents).toBe(66);
  });

  it('defaults to 100 rows; a bad limit or a cursor it did not issue is 400', async () => {
    const id = await openAccount(1);
    await projectEvents(env.DB);
    const page = (await (await get(`/ledger/accounts/${id}/transactions`)).json()) as Page;
    expect(page).toEqual({ items: [expect.objectContaining({ version: 1 })], nextCursor: null });
    for (const bad of ['limit=0', 'limit=501', 'limit=x', 'cursor=not-a-cursor', `cursor=${btoa(JSON.stringify({ after: 'x' }))}`]) {
      const response = await get(`/ledger/accounts/${id}/transactions?${bad}`);
      expect(response.status, bad).toBe(400);
    }
  });
});
