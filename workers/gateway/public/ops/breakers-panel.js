// Circuit breakers: one card per upstream with its state, failure rate, calls, when it opened and
// when it next lets a probe through, and a strip of its state at each of the last polls.
import { el, fill, percent, time } from './dom.js';

const HISTORY = 40;
const history = new Map();

export function renderBreakers(list, breakers) {
  const cards = Object.entries(breakers).map(([upstream, b]) => {
    const states = [...(history.get(upstream) ?? []), b.state].slice(-HISTORY);
    history.set(upstream, states);
    const transitions = Object.entries(b.transitions ?? {}).map(([t, n]) => `${t} ×${n}`).join(', ') || 'none';
    const strip = el('div', { className: 'strip', role: 'img', ariaLabel: `${upstream}: last ${states.length} states, oldest first: ${states.join(', ')}` },
      ...states.map((state) => el('span', { dataset: { state }, title: state })));
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
