// The dead-letter queue: what QStash gave up on, and a button to drop a letter once dealt with.
import { el, fill } from './dom.js';

const snippet = (text) => (text && text.length > 120 ? `${text.slice(0, 120)}…` : (text ?? ''));

export function renderDlq(table, { items }, onDelete) {
  if (items.length === 0) return fill(table.tBodies[0], [el('tr', {}, el('td', { colSpan: 6, className: 'hint' }, 'Empty: every delivery got through.'))]);
  fill(table.tBodies[0], items.map((m) =>
    el('tr', {},
      el('td', {}, new Date(m.createdAt).toLocaleString()),
      el('td', {}, m.topicName ?? m.queueName ?? '–'),
      el('td', {}, m.url),
      el('td', { title: m.responseBody ?? '' }, m.responseStatus === null ? '–' : String(m.responseStatus)),
      el('td', { title: m.body ?? '' }, el('code', {}, snippet(m.body))),
      el('td', {}, el('button', { type: 'button', textContent: 'Delete', ariaLabel: `Delete dead letter ${m.dlqId}`, onclick: () => onDelete(m.dlqId) })))));
}
