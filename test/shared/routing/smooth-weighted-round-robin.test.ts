import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SmoothWeightedRoundRobin } from '../../../shared/routing/smooth-weighted-round-robin';

const sequence = (balancer: SmoothWeightedRoundRobin<{ name: string }>, count: number) =>
  Array.from({ length: count }, () => balancer.pick().name).join(' ');

describe('SmoothWeightedRoundRobin (nginx)', () => {
  it('gives nginx’s sequence for weights 5, 1, 1: a a b a c a a, then again', () => {
    const balancer = new SmoothWeightedRoundRobin([
      { name: 'a', weight: 5 },
      { name: 'b', weight: 1 },
      { name: 'c', weight: 1 },
    ]);
    expect(sequence(balancer, 14)).toBe('a a b a c a a a a b a c a a');
  });

  it('interleaves rather than bunching: weights 2, 1 give a b a', () => {
    const balancer = new SmoothWeightedRoundRobin([
      { name: 'a', weight: 2 },
      { name: 'b', weight: 1 },
    ]);
    expect(sequence(balancer, 6)).toBe('a b a a b a');
  });

  it('treats a missing weight as 1, which is plain round robin', () => {
    expect(sequence(new SmoothWeightedRoundRobin([{ name: 'a' }, { name: 'b' }, { name: 'c' }]), 6)).toBe('a b c a b c');
  });

  it('picks every target exactly its weight times in each run of total-weight picks', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 20 }), { minLength: 1, maxLength: 8 }), fc.integer({ min: 1, max: 3 }), (weights, rounds) => {
        const balancer = new SmoothWeightedRoundRobin(weights.map((weight, i) => ({ name: `t${i}`, weight })));
        const total = weights.reduce((sum, weight) => sum + weight, 0);
        for (let round = 0; round < rounds; round++) {
          const counts = new Map<string, number>();
          for (let i = 0; i < total; i++) {
            const { name } = balancer.pick();
            counts.set(name, (counts.get(name) ?? 0) + 1);
          }
          weights.forEach((weight, i) => expect(counts.get(`t${i}`) ?? 0).toBe(weight));
        }
      }),
    );
  });

  it('refuses a weight that is not a positive integer', () => {
    expect(() => new SmoothWeightedRoundRobin([{ name: 'a', weight: -2 }])).toThrow('target "a": weight must be a positive integer, got -2');
    expect(() => new SmoothWeightedRoundRobin([])).toThrow('SmoothWeightedRoundRobin: needs at least one target');
  });
});
