// Recent sagas, each drawn as a waterfall: one row per step, its bar placed on a time axis that
// runs from the saga's first step start to its last step end (a step still running ends "now").
import { el, fill, time } from './dom.js';

const money = (cents, currency) => `${(cents / 100).toFixed(2)} ${currency}`;

function waterfall(steps, now) {
  const started = steps.filter((s) => s.startedAt).map((s) => Date.parse(s.startedAt));
  if (started.length === 0) return el('p', { className: 'hint' }, 'No step has started yet.');
  const t0 = Math.min(...started);
  const end = (s) => (s.finishedAt ? Date.parse(s.finishedAt) : now);
  const t1 = Math.max(t0 + 1, ...steps.filter((s) => s.startedAt).map(end));
  const span = t1 - t0;
  const rows = steps.map((s) => {
    const bar = el('span', { className: 'bar', dataset: { status: s.status } });
    if (s.startedAt) {
      // Positions through the CSSOM, which the page's Content-Security-Policy allows (no inline style attributes).
      bar.style.left = `${((Date.parse(s.startedAt) - t0) / span) * 100}%`;
      bar.style.width = `${Math.max(0.5, ((end(s) - Date.parse(s.startedAt)) / span) * 100)}%`;
    } else bar.hidden = true;
    const took = s.startedAt ? `${end(s) - Date.parse(s.startedAt)} ms` : 'not started';
    const label = `${s.name}: ${s.status.toLowerCase()}, ${took}, ${s.attempts} attempt${s.attempts === 1 ? '' : 's'}${s.error ? `, ${s.error}` : ''}`;
    return el('li', { title: label },
      el('span', { className: 'step-name' }, s.name),
      el('span', { className: 'track', role: 'img', ariaLabel: label }, bar),
      el('span', { className: 'step-status' }, `${s.status.toLowerCase()} · ${took}`));
  });
  return el('ol', { className: 'waterfall', ariaLabel: `steps over ${span} ms` }, ...rows);
}

export function renderSagas(list, { items }) {
  const now = Date.now();
  if (items.length === 0) return fill(list, [el('li', { className: 'hint' }, 'No orders yet.')]);
  fill(list, items.map((o) =>
    el('li', { dataset: { status: o.status } },
      el('h3', {}, o.orderId, ' ', el('span', { className: 'state', dataset: { state: o.status.toLowerCase() } }, o.status)),
      el('p', { className: 'hint' }, `${money(o.totalCents, o.currency)} · placed ${time(o.createdAt)}${o.reason ? ` · ${o.reason}` : ''}`),
      waterfall(o.saga.steps, now))));
}
