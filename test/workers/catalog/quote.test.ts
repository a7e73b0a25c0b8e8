import { beforeEach, describe, expect, it } from 'vitest';
import { problemOf, quote, seedProducts, type Quote } from './inventory-support';

beforeEach(async () => {
  await seedProducts([
    { id: 'p1', stock: 1, priceCents: 1_250 },
    { id: 'p2', stock: 0, priceCents: 399 },
    { id: 'e1', stock: 5, priceCents: 700, currency: 'EUR' },
  ]);
});

describe('POST /inventory/quote', () => {
  it('prices items at the current prices, in minor units, with the total', async () => {
    const response = await quote([
      { productId: 'p1', quantity: 2 },
      { productId: 'p2', quantity: 3 },
    ]);
    expect(response.status).toBe(200);
    expect((await response.json()) satisfies Quote).toEqual({
      items: [
        { productId: 'p1', quantity: 2, unitPriceCents: 1_250, currency: 'USD' },
        { productId: 'p2', quantity: 3, unitPriceCents: 399, currency: 'USD' },
      ],
      totalCents: 3_697,
      currency: 'USD',
    });
  });

  it('does not look at stock (a quote holds nothing)', async () => {
    expect((await quote([{ productId: 'p2', quantity: 100 }])).status).toBe(200);
  });

  it('404s an unknown product, naming it', async () => {
    const response = await quote([
      { productId: 'p1', quantity: 1 },
      { productId: 'ghost', quantity: 1 },
    ]);
    expect(response.status).toBe(404);
    expect((await problemOf(response)).detail).toContain('ghost');
  });

  it('refuses items in more than one currency with 400 mixed-currencies', async () => {
    const response = await quote([
      { productId: 'p1', quantity: 1 },
      { productId: 'e1', quantity: 1 },
    ]);
    expect(response.status).toBe(400);
    expect((await problemOf(response)).type).toBe('/problems/mixed-currencies');
  });

  it('refuses an empty list or a fractional quantity with 400 field errors', async () => {
    expect((await problemOf(await quote([]))).status).toBe(400);
    const fractional = await problemOf(await quote([{ productId: 'p1', quantity: 1.5 }]));
    expect(fractional.errors?.[0]?.path).toBe('items.0.quantity');
  });
});
