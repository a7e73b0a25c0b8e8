// The breaker strip's cells: one a poll, each the breaker's state then. Plain functions with no
// DOM, so they are tested in Node (test/browser/breaker-history.test.ts).

const HISTORY = 40;

const transitionCount = (b) => Object.values(b.transitions ?? {}).reduce((sum, n) => sum + n, 0);

/**
 * The strip with this read added. A read less than `minMs` after the last cell (an operator's
 * click asks for one between polls) updates that cell rather than adding one, so the strip stays
 * one cell a poll. A cell is `flipped` when the breaker made more transitions since the cell
 * before than the change of state shows (open -> half-open -> closed between two polls reads as
 * closed, closed): it went round unseen.
 */
export function withRead(cells, b, at, minMs) {
  const last = cells.at(-1);
  const kept = last && at - last.at < minMs ? cells.slice(0, -1) : cells;
  const base = kept.at(-1);
  const transitions = transitionCount(b);
  // A count that went down was reset (the suite restarted): no history to compare with.
  const made = base && transitions >= base.transitions ? transitions - base.transitions : 0;
  const flipped = made > (base && base.state !== b.state ? 1 : 0) || Boolean(last && last !== base && last.flipped);
  return [...kept, { state: b.state, at: last && last !== base ? last.at : at, transitions, flipped }].slice(-HISTORY);
}

