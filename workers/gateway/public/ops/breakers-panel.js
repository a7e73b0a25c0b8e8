// Circuit breakers: one card per upstream with its state, failure rate, calls, when it opened and
// when it next lets a probe through, and a strip of its state at each of the last polls.
import { withRead } from './breaker-history.js';
import { el, fill, percent, time } from './dom.js';

/** Per upstream: the strip's cells, oldest first, each `{state, at, transitions, flipped}`. */
const history = new Map();

export function renderBreakers(list, breakers, { minMs = 0 } = {}) {
  const at = Date.now();
  const cards = Object.entries(breakers).map(([upstream, b]) => {
    const cells = withRead(history.get(upstream) ?? [], b, at, minMs);
    history.set(upstream, cells);
    const transitions = Object.entries(b.transitions ?? {}).map(([t, n]) => `${t} ×${n}`).join(', ') || 'none';
    const described = cells.map((c) => (c.flipped ? `${c.state} (changed and back since the poll before)` : c.state));
    const strip = el('div', { className: 'strip', role: 'img', ariaLabel: `${upstream}: last ${cells.length} states, oldest first: ${described.join(', ')}` },
      ...cells.map((c, i) => el('span', { dataset: { state: c.state, ...(c.flipped ? { flipped: 'true' } : {}) }, title: described[i] })));
    return el('li', { className: 'card', dataset: { upstream, state: b.state } },
      el('h3', {}, upstream, ' ', el('span', { className: 'state', dataset: { state: b.state } }, b.state)),
      el('dl', {},
        el('dt', {}, 'failure rate'), el('dd', {}, percent(b.failureRate)),
        el('dt', {}, 'calls in window'), el('dd', {}, String(b.calls)),
        el('dt', {}, 'opened'), el('dd', {}, time(b.openedAt)),
        el('dt', {}, 'next probe'), el('dd', {}, time(b.nextProbeAt)),
        el('dt', {}, 'transitions'), el('dd', {}, transitions)),
      strip);
  });
  fill(list, cards);
}

/** Signed out: the strips start again at the next sign-in. */
export const resetBreakers = () => history.clear();
