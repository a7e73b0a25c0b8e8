import { describe, expect, it } from 'vitest';
import { RoundRobin } from '../../../shared/routing/round-robin';

const origins = [{ name: 'a' }, { name: 'b' }, { name: 'c' }];
const names = (picks: { name: string }[]) => picks.map((target) => target.name).join(' ');
const picks = (balancer: { pick(): { name: string } }, count: number) => Array.from({ length: count }, () => balancer.pick());

describe('RoundRobin', () => {
  it('takes the targets in turn, in the order given, and starts over', () => {
    expect(names(picks(new RoundRobin(origins), 7))).toBe('a b c a b c a');
  });

  it('starts where it is told, modulo the count, so isolates need not all start on the first origin', () => {
    expect(names(picks(new RoundRobin(origins, { start: 1 }), 4))).toBe('b c a b');
    expect(names(picks(new RoundRobin(origins, { start: 5 }), 4))).toBe('c a b c');
  });

  it('hands back the caller’s own target objects', () => {
    const target = { name: 'only', url: 'https://origin.example' };
    expect(new RoundRobin([target]).pick()).toBe(target);
  });

  it('is not changed by later edits to the array it was given', () => {
    const list = [...origins];
    const balancer = new RoundRobin(list);
    list.reverse();
    expect(names(picks(balancer, 3))).toBe('a b c');
  });

  it('refuses no targets, a nameless or repeated target, a bad weight and a bad start, saying which', () => {
    expect(() => new RoundRobin([])).toThrow('RoundRobin: needs at least one target');
    expect(() => new RoundRobin([{ name: '' }])).toThrow('RoundRobin: every target needs a non-empty name');
    expect(() => new RoundRobin([{ name: 'a' }, { name: 'a' }])).toThrow('RoundRobin: target name "a" appears twice');
    expect(() => new RoundRobin([{ name: 'a', weight: 0 }])).toThrow('target "a": weight must be a positive integer, got 0');
    expect(() => new RoundRobin([{ name: 'a', weight: 1.5 }])).toThrow('target "a": weight must be a positive integer, got 1.5');
    expect(() => new RoundRobin(origins, { start: -1 })).toThrow('RoundRobin: start must be a non-negative integer, got -1');
  });
});
