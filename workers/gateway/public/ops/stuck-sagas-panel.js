// Sagas the orders service gave up driving on its own (status STUCK), each with the operator's
// actions: retry now, compensate (the service answers 409 where that is not safe), and resolve
// with a note. Every action is recorded in the saga's timeline by the orders service.
import { el, fill, time } from './dom.js';

const ACTIONS = [
  ['retry', 'Retry now'],
  ['compensate', 'Compensate'],
  ['resolve', 'Resolve'],
];

/**
 * `onAction(orderId, action, note)` calls the endpoint and shows its answer. The panel is drawn
 * again on every read, so a note being typed is carried over (with its focus) rather than lost.
 */
export function renderStuckSagas(list, { items }, onAction) {
  const typed = new Map([...list.querySelectorAll('input[data-order-id]')].map((input) => [input.dataset.orderId, input]));
  const focused = document.activeElement?.dataset?.orderId;
  if (items.length === 0) return fill(list, [el('li', { className: 'hint' }, 'None: every saga is moving or finished.')]);
  fill(list, items.map((o) => {
    const note = el('input', { type: 'text', maxLength: 500, placeholder: 'note (kept with the action)', ariaLabel: `Note for ${o.orderId}`, value: typed.get(o.orderId)?.value ?? '', dataset: { orderId: o.orderId } });
    const failed = o.saga?.steps?.find((s) => s.status === 'FAILED');
    const buttons = ACTIONS.map(([action, label]) =>
      el('button', {
        type: 'button',
        textContent: label,
        ariaLabel: `${label} ${o.orderId}`,
        dataset: { action },
        onclick: async (event) => {
          for (const b of event.currentTarget.parentElement.querySelectorAll('button')) b.disabled = true;
          await onAction(o.orderId, action, note.value.trim() || undefined);
        },
      }));
    return el('li', { dataset: { status: o.status, orderId: o.orderId } },
      el('h3', {}, o.orderId, ' ', el('span', { className: 'state', dataset: { state: o.status.toLowerCase() } }, o.status)),
      el('p', { className: 'hint' }, `placed ${time(o.createdAt)}${o.reason ? ` · ${o.reason}` : ''}${failed ? ` · ${failed.name}: ${failed.error ?? 'failed'}` : ''}`),
      el('div', { className: 'actions' }, note, ...buttons));
  }));
  if (focused) list.querySelector(`input[data-order-id="${CSS.escape(focused)}"]`)?.focus();
}
