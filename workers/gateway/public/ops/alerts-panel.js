// Alerts: every rule of ALERT_RULES with its state (inactive, pending, firing, resolved), since
// when, and the value it last measured; firing ones first.
import { el, fill } from './dom.js';

const ORDER = { firing: 0, pending: 1, resolved: 2, inactive: 3 };
const shown = (value) => (value === undefined ? '–' : Number.isInteger(value) ? String(value) : value.toFixed(3));

export function renderAlerts(table, { items }) {
  if (items.length === 0) return fill(table.tBodies[0], [el('tr', {}, el('td', { colSpan: 4, className: 'hint' }, 'No alert rules configured.'))]);
  const sorted = [...items].sort((a, b) => ORDER[a.state] - ORDER[b.state] || a.rule.localeCompare(b.rule));
  fill(table.tBodies[0], sorted.map((a) =>
    el('tr', { dataset: { rule: a.rule, state: a.state } },
      el('td', {}, a.rule, ' ', el('span', { className: 'hint' }, a.kind ?? '')),
      el('td', {}, el('span', { className: 'state', dataset: { state: a.state } }, a.state)),
      el('td', {}, new Date(a.since).toLocaleString()),
      el('td', {}, shown(a.value)))));
}
