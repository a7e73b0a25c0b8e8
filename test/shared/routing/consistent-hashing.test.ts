import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { HashRing } from '../../../shared/routing/hash-ring';
import { Rendezvous } from '../../../shared/routing/rendezvous';
import type { LoadBalancer, Target } from '../../../shared/routing/load-balancer';

const KEYS = Array.from({ length: 2_000 }, (_, i) => `user-${i}`);
/** Fixed seeds: these properties measure shares of 2,000 keys, so the runs are pinned, not flaky. */
const PINNED = { seed: 20_260_501, numRuns: 40 };

const origins = (names: readonly string[]) => names.map((name) => ({ name }));

const shares = (balancer: LoadBalancer<Target>) => {
  const counts = new Map<string, number>();
  for (const key of KEYS) {
    const { name } = balancer.pick(key);
    counts.set(name, (counts.get(name) ?? 0) + 1);
  }
  return counts;
};

/** Distinct origin names, 1 to 9 of them, plus one more to add. */
const cluster = fc.uniqueArray(fc.stringMatching(/^[a-z][a-z0-9-]{0,11}$/), { minLength: 2, maxLength: 10 }).map((names) => ({
  before: names.slice(1),
  extra: names[0]!,
}));

describe.each([
  // The ring's shares wander by about 1/sqrt(160 points) around 1/n, so its tolerance is wider.
  { strategy: 'HashRing', make: (targets: Target[]) => new HashRing(targets), tolerance: 0.08 },
  { strategy: 'Rendezvous', make: (targets: Target[]) => new Rendezvous(targets), tolerance: 0.05 },
])('$strategy', ({ strategy, make, tolerance }) => {
  it('sends the same key to the same target, whatever order the targets were listed in', () => {
    const forward = make(origins(['a', 'b', 'c', 'd']));
    const backward = make(origins(['d', 'c', 'b', 'a']));
    for (const key of KEYS) expect(backward.pick(key).name).toBe(forward.pick(key).name);
  });

  it('spreads keys about evenly over the targets', () => {
    const counts = shares(make(origins(['a', 'b', 'c', 'd'])));
    for (const name of ['a', 'b', 'c', 'd']) expect(Math.abs((counts.get(name) ?? 0) / KEYS.length - 0.25)).toBeLessThan(tolerance);
  });

  it('moves keys only to an added target, about 1/n of them', () => {
    fc.assert(
      fc.property(cluster, ({ before, extra }) => {
        const old = make(origins(before));
        const grown = make(origins([...before, extra]));
        let moved = 0;
        for (const key of KEYS) {
          const now = grown.pick(key).name;
          if (now !== old.pick(key).name) {
            moved++;
            expect(now).toBe(extra);
          }
        }
        expect(moved / KEYS.length).toBeLessThanOrEqual(1 / (before.length + 1) + tolerance);
      }),
      PINNED,
    );
  });

  it('moves only the keys of a removed target', () => {
    fc.assert(
      fc.property(cluster, ({ before, extra }) => {
        const full = make(origins([...before, extra]));
        const shrunk = make(origins(before));
        for (const key of KEYS) {
          const was = full.pick(key).name;
          if (was !== extra) expect(shrunk.pick(key).name).toBe(was);
        }
      }),
      PINNED,
    );
  });

  it('needs a key, and says so', () => {
    expect(() => make(origins(['a'])).pick()).toThrow(`${strategy}: pick(key) needs a key`);
  });

  it('refuses a repeated target name', () => {
    expect(() => make(origins(['a', 'a']))).toThrow(`${strategy}: target name "a" appears twice`);
  });
});

describe('weights on the hashing strategies', () => {
  it.each([
    ['HashRing', (targets: Target[]) => new HashRing(targets)],
    ['Rendezvous', (targets: Target[]) => new Rendezvous(targets)],
  ])('%s gives a weight-3 target about three times the keys of a weight-1 one', (_, make) => {
    const counts = shares(make([{ name: 'big', weight: 3 }, { name: 'small', weight: 1 }]));
    expect(Math.abs((counts.get('big') ?? 0) / KEYS.length - 0.75)).toBeLessThan(0.05);
  });

  it('Rendezvous moves keys only into a target whose weight grew', () => {
    const before = new Rendezvous([{ name: 'a' }, { name: 'b' }, { name: 'c' }]);
    const after = new Rendezvous([{ name: 'a' }, { name: 'b', weight: 3 }, { name: 'c' }]);
    let moved = 0;
    for (const key of KEYS) {
      const now = after.pick(key).name;
      if (now !== before.pick(key).name) {
        moved++;
        expect(now).toBe('b');
      }
    }
    // b goes from a third of the keys to three fifths.
    expect(Math.abs(moved / KEYS.length - (3 / 5 - 1 / 3))).toBeLessThan(0.05);
  });

  it('HashRing refuses a replica count that is not a positive integer', () => {
    expect(() => new HashRing([{ name: 'a' }], { replicas: 0 })).toThrow('HashRing: replicas must be a positive integer, got 0');
  });

  it('HashRing with more virtual nodes spreads keys more evenly', () => {
    const spread = (replicas: number) => {
      const counts = shares(new HashRing(origins(['a', 'b', 'c', 'd', 'e']), { replicas }));
      return Math.max(...[...counts.values()].map((count) => Math.abs(count / KEYS.length - 0.2)));
    };
    expect(spread(1)).toBeGreaterThan(spread(160));
    expect(spread(160)).toBeLessThan(0.05);
  });
});
