import { describe, expect, it } from 'vitest';
import { deployOrder, deployTargets } from '../../scripts/deploy-order.mjs';

// Cloudflare refuses a worker whose service binding names a worker not deployed yet, so
// `npm run deploy` must deploy each worker after the ones it binds to.

const w = (name: string, bindsTo: string[] = []) => ({ name, worker: `stratus-${name}`, bindsTo: bindsTo.map((b) => `stratus-${b}`) });
const names = (list: { name: string }[]) => list.map((x) => x.name);

describe('deployOrder', () => {
  it('puts every worker after the workers it binds to', () => {
    const order = names(deployOrder([w('catalog'), w('gateway', ['catalog', 'orders', 'payments']), w('orders', ['catalog', 'payments']), w('payments')]));
    expect(order.indexOf('orders')).toBeGreaterThan(order.indexOf('payments'));
    expect(order.indexOf('orders')).toBeGreaterThan(order.indexOf('catalog'));
    expect(order.at(-1)).toBe('gateway');
  });

  it('keeps the given order where bindings do not decide it', () => {
    expect(names(deployOrder([w('a'), w('b'), w('c')]))).toEqual(['a', 'b', 'c']);
  });

  it('ignores bindings to workers outside the list (they exist already)', () => {
    expect(names(deployOrder([w('a', ['elsewhere']), w('b')]))).toEqual(['a', 'b']);
  });

  it('refuses a cycle, naming it', () => {
    expect(() => deployOrder([w('a', ['b']), w('b', ['a'])])).toThrow(/cycle.*a -> b -> a/);
  });
});

describe('the suite', () => {
  it('deploys catalog and payments before orders, and the gateway last', () => {
    const order = names(deployTargets());
    expect(order.indexOf('orders')).toBeGreaterThan(order.indexOf('catalog'));
    expect(order.indexOf('orders')).toBeGreaterThan(order.indexOf('payments'));
    expect(order.at(-1)).toBe('gateway');
    expect(order).toEqual(expect.arrayContaining(['catalog', 'catalog-canary', 'notifications', 'orders', 'payments', 'users']));
  });
});
