import { describe, expect, it } from 'vitest';
import { type Cell, withRead } from '../../workers/gateway/public/ops/breaker-history.js';

// The breaker strip's cells (workers/gateway/public/ops/breaker-history.js), in Node.
const POLL = 2_000;
const MIN = POLL / 2;

function strip(reads: { state: string; transitions?: Record<string, number>; at: number }[]): Cell[] {
  return reads.reduce<Cell[]>((cells, { at, ...b }) => withRead(cells, b, at, MIN), []);
}

describe('the breaker strip', () => {
  it('adds one cell a poll, and a read soon after a poll (a click) updates that cell instead', () => {
    const cells = strip([
      { state: 'closed', at: 0 },
      { state: 'closed', at: POLL },
      { state: 'open', transitions: { 'closed->open': 1 }, at: POLL + 30 },
      { state: 'open', transitions: { 'closed->open': 1 }, at: POLL + 60 },
      { state: 'open', transitions: { 'closed->open': 1 }, at: 2 * POLL },
    ]);
    expect(cells.map((c) => c.state)).toEqual(['closed', 'open', 'open']);
    expect(cells.some((c) => c.flipped)).toBe(false);
  });

  it('marks a cell when the breaker went round between two polls (open -> half-open -> closed reads closed, closed)', () => {
    const cells = strip([
      { state: 'open', transitions: { 'closed->open': 1 }, at: 0 },
      { state: 'closed', transitions: { 'closed->open': 1, 'open->half-open': 1, 'half-open->closed': 1 }, at: POLL },
      { state: 'open', transitions: { 'closed->open': 2, 'open->half-open': 1, 'half-open->closed': 1 }, at: 2 * POLL },
      { state: 'open', transitions: { 'closed->open': 3, 'open->half-open': 2, 'half-open->closed': 2 }, at: 3 * POLL },
    ]);
    expect(cells.map((c) => [c.state, c.flipped])).toEqual([
      ['open', false],
      // Open to closed is two transitions (via half-open), one more than the change of state shows.
      ['closed', true],
      ['open', false],
      ['open', true],
    ]);
  });

  it('reads a count that went down as a restart, not as a flip', () => {
    const cells = strip([
      { state: 'closed', transitions: { 'closed->open': 4, 'open->half-open': 4, 'half-open->closed': 4 }, at: 0 },
      { state: 'closed', at: POLL },
    ]);
    expect(cells.map((c) => c.flipped)).toEqual([false, false]);
  });

  it('keeps the last 40 polls', () => {
    const cells = strip(Array.from({ length: 45 }, (_, i) => ({ state: 'closed', at: i * POLL })));
    expect(cells).toHaveLength(40);
    expect(cells[0]?.at).toBe(5 * POLL);
  });
});
