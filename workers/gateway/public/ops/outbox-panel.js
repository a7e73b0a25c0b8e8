// Each service's outbox: rows waiting, and the rows parked as dead after their last allowed
// publish attempt, each with a button to publish it again (and one for all of a service's).
import { el, fill } from './dom.js';

/** `outboxes`: GET /_ops/outbox's answer; `onRetry(service, id?)` un-parks and publishes. */
export function renderOutbox(table, outboxes, onRetry) {
  const rows = [];
  for (const [service, box] of Object.entries(outboxes)) {
    if (box.error) {
      rows.push(el('tr', {}, el('td', {}, service), el('td', { colSpan: 5, className: 'error' }, box.error)));
      continue;
    }
    const all = box.dead > 0
      ? el('button', { type: 'button', textContent: `Retry all ${box.dead}`, ariaLabel: `Retry every dead outbox row of ${service}`, onclick: () => onRetry(service) })
      : null;
    rows.push(el('tr', { className: 'summary' },
      el('td', {}, service),
      el('td', { colSpan: 4 }, `${box.pending} pending · ${box.sent} sent · ${box.dead} dead`),
      el('td', {}, all)));
    for (const row of box.deadRows ?? []) {
      rows.push(el('tr', { dataset: { outboxId: row.id } },
        el('td', {}, ''),
        el('td', {}, row.type),
        el('td', {}, new Date(row.deadAt).toLocaleString()),
        el('td', {}, String(row.attempts)),
        el('td', { title: row.lastError ?? '' }, row.lastError ?? '–'),
        el('td', {}, el('button', { type: 'button', textContent: 'Retry', ariaLabel: `Retry outbox row ${row.id}`, onclick: () => onRetry(service, row.id) }))));
    }
  }
  fill(table.tBodies[0], rows);
}
