// Sagas the orders service gave up driving on its own (status STUCK), each with the operator's
// actions: retry now, compensate (the service answers 409 where that is not safe), and resolve
// with a note. Every action is recorded in the saga's timeline by the orders service.
import { el, fill, time } from './dom.js';

const ACTIONS = [
  ['retry', 'Retry now'],
  ['compensate', 'Compensate'],
  ['resolve', 'Resolve'],
];

/** `onAction(orderId, action, note)` calls the endpoint; the panel shows what it answered. */
export function renderStuckSagas(list, { items }, onAction) {
  if (items.length === 0) return fill(list, [el('li', { className: 'hint' }, 'None: every saga is moving or finished.')]);
  fill(list, items.map((o) => {
    const note = el('input', { type: 'text', maxLength: 500, placeholder: 'note (for resolve)', ariaLabel: `Note for ${o.orderId}` });
    const answer = el('p', { className: 'answer', role: 'status' });
    const failed = o.saga?.steps?.find((s) => s.status === 'FAILED');
    const buttons = ACTIONS.map(([action, label]) =>
      el('button', {
        type: 'button',
        textContent: label,
        ariaLabel: `${label} ${o.orderId}`,
        dataset: { action },
        onclick: async (event) => {
          for (const b of event.currentTarget.parentElement.querySelectorAll('button')) b.disabled = true;
          answer.textContent = `${label}…`;
          answer.textContent = await onAction(o.orderId, action, note.value.trim() || undefined);
        },
      }));
    return el('li', { dataset: { status: o.status, orderId: o.orderId } },
      el('h3', {}, o.orderId, ' ', el('span', { className: 'state', dataset: { state: o.status.toLowerCase() } }, o.status)),
      el('p', { className: 'hint' }, `placed ${time(o.createdAt)}${o.reason ? ` · ${o.reason}` : ''}${failed ? ` · ${failed.name}: ${failed.error ?? 'failed'}` : ''}`),
      el('div', { className: 'actions' }, note, ...buttons),
      answer);
  }));
}
