// The dead-letter queue: what QStash gave up on, with buttons to send a letter to its consumer
// again (redrive), to drop it once dealt with, and to redrive every letter of one topic.
import { el, fill } from './dom.js';

const snippet = (text) => (text && text.length > 120 ? `${text.slice(0, 120)}…` : (text ?? ''));

/** `actions`: `{ redrive(dlqId), remove(dlqId), redriveTopic(topic) }`. */
export function renderDlq(table, { items }, actions) {
  if (items.length === 0) return fill(table.tBodies[0], [el('tr', {}, el('td', { colSpan: 6, className: 'hint' }, 'Empty: every delivery got through.'))]);
  fill(table.tBodies[0], items.map((m) =>
    el('tr', { dataset: { dlqId: m.dlqId } },
      el('td', {}, new Date(m.createdAt).toLocaleString()),
      el('td', {}, m.topicName ?? m.queueName ?? '–',
        m.topicName ? el('button', { type: 'button', className: 'small', textContent: 'Redrive topic', ariaLabel: `Redrive every dead letter of ${m.topicName}`, onclick: () => actions.redriveTopic(m.topicName) }) : null),
      el('td', {}, m.url),
      el('td', { title: m.responseBody ?? '' }, m.responseStatus === null ? '–' : String(m.responseStatus)),
      el('td', { title: m.body ?? '' }, el('code', {}, snippet(m.body))),
      el('td', {},
        el('button', { type: 'button', textContent: 'Redrive', ariaLabel: `Redrive dead letter ${m.dlqId}`, onclick: () => actions.redrive(m.dlqId) }),
        el('button', { type: 'button', textContent: 'Delete', ariaLabel: `Delete dead letter ${m.dlqId}`, onclick: () => actions.remove(m.dlqId) })))));
}
