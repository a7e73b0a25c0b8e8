import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { seededRandom } from '../../../scripts/qstash/seeded-random.mjs';
import { LeastOutstanding } from '../../../shared/routing/least-outstanding';

/** Seeded, so "random" picks are the same on every run (the local QStash's mulberry32). */
const seeded = seededRandom;

/** A random source that answers the given draws in turn. */
const draws = (...values: number[]) => {
  let i = 0;
  return () => values[i++ % values.length]!;
};

const a = { name: 'a' };
const b = { name: 'b' };
const c = { name: 'c' };

describe('LeastOutstanding', () => {
  it('sends the next request to the origin with the fewest in flight, as onStart and onFinish report them', () => {
    const balancer = new LeastOutstanding([a, b, c], { choices: 3, random: seeded(1) });
    balancer.onStart(a);
    balancer.onStart(b);
    expect(balancer.pick()).toBe(c);
    balancer.onStart(c);
    balancer.onStart(c);
    expect(balancer.outstanding('c')).toBe(2);
    balancer.onFinish(a);
    expect(balancer.pick()).toBe(a);
    balancer.onFinish(b);
    // a and b are both idle now; c, with two in flight, is never chosen.
    for (let i = 0; i < 20; i++) expect(balancer.pick()).not.toBe(c);
  });

  it('compares only the two it samples (power of two choices), and the less loaded of them wins', () => {
    // Draws 0 and 0.99 sample slot 0 (a), then the last of the other two (c): idle c beats a.
    const sampledC = new LeastOutstanding([a, b, c], { random: draws(0, 0.99) });
    sampledC.onStart(a);
    expect(sampledC.pick()).toBe(c);
    // Draws 0 and 0 sample a, then b: a (1 in flight) beats b (2), though c, not sampled, is idle.
    const sampledAB = new LeastOutstanding([a, b, c], { random: draws(0, 0) });
    sampledAB.onStart(a);
    sampledAB.onStart(b);
    sampledAB.onStart(b);
    expect(sampledAB.pick()).toBe(a);
  });

  it('does not always break a tie in favour of the first target', () => {
    const balancer = new LeastOutstanding([a, b, c], { random: seeded(7) });
    const counts = new Map<string, number>();
    for (let i = 0; i < 3_000; i++) {
      const { name } = balancer.pick();
      counts.set(name, (counts.get(name) ?? 0) + 1);
    }
    // All idle: each origin gets about a third.
    for (const name of ['a', 'b', 'c']) expect(Math.abs((counts.get(name) ?? 0) / 3_000 - 1 / 3)).toBeLessThan(0.05);
  });

  it('never picks the one origin with strictly the most in flight, whatever was started and finished', () => {
    const step = fc.record({ op: fc.constantFrom('start', 'finish', 'pick'), target: fc.nat(4) });
    fc.assert(
      fc.property(fc.array(step, { maxLength: 60 }), fc.integer(), fc.integer({ min: 2, max: 5 }), (steps, seed, choices) => {
        const targets = ['t0', 't1', 't2', 't3', 't4'].map((name) => ({ name }));
        const balancer = new LeastOutstanding(targets, { choices, random: seeded(seed) });
        const load = targets.map(() => 0);
        for (const { op, target } of steps) {
          if (op === 'start') {
            balancer.onStart(targets[target]!);
            load[target]!++;
          } else if (op === 'finish') {
            balancer.onFinish(targets[target]!);
            load[target] = Math.max(0, load[target]! - 1);
          } else {
            const picked = Number(balancer.pick().name.slice(1));
            const most = Math.max(...load);
            if (load.filter((n) => n === most).length === 1) expect(load[picked]).toBeLessThan(most);
            if (choices === targets.length) expect(load[picked]).toBe(Math.min(...load));
          }
        }
        targets.forEach((target, i) => expect(balancer.outstanding(target.name)).toBe(load[i]));
      }),
    );
  });

  it('keeps a weight-2 origin at twice the requests in flight of a weight-1 one', () => {
    const big = { name: 'big', weight: 2 };
    const small = { name: 'small', weight: 1 };
    const balancer = new LeastOutstanding([big, small], { random: seeded(3) });
    for (let i = 0; i < 30; i++) balancer.onStart(balancer.pick());
    expect(balancer.outstanding('big')).toBe(20);
    expect(balancer.outstanding('small')).toBe(10);
  });

  it('ignores an extra finish and one for a target it does not hold, and never counts below zero', () => {
    const balancer = new LeastOutstanding([a, b], { random: seeded(2) });
    balancer.onStart(a);
    balancer.onFinish(a);
    balancer.onFinish(a);
    balancer.onFinish({ name: 'gone' });
    expect(balancer.outstanding('a')).toBe(0);
    balancer.onStart(a);
    expect(balancer.pick()).toBe(b);
  });

  it('refuses a choice count that is not a positive integer', () => {
    expect(() => new LeastOutstanding([a], { choices: 0 })).toThrow('LeastOutstanding: choices must be a positive integer, got 0');
  });
});
