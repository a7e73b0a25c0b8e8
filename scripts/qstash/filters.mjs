// Filters of QStash's bulk actions (cancel messages; list, delete and retry DLQ entries), read and
// checked as the real API checks them: a field the endpoint does not know is a 400, never "no
// filter" (which would touch everything). Fields and their meaning follow @upstash/qstash 2.12's
// filter types: a field given several times matches any of its values (OR), different fields must
// all match (AND); `label` matches a message that has any of the labels.
import { QStashError } from './messages.mjs';

const UNIVERSAL = ['fromDate', 'toDate', 'callerIp', 'label', 'flowControlKey'];
const IDENTITY = ['url', 'topicName', 'scheduleId', 'queueName'];

/** Which fields each bulk endpoint takes, besides its paging (`count`, `cursor`). */
export const FILTER_FIELDS = {
  // DELETE /v2/messages: host and path are the cancel endpoint's own (the DLQ refuses them).
  cancel: new Set([...UNIVERSAL, ...IDENTITY, 'host', 'path', 'messageIds']),
  // GET /v2/dlq, DELETE /v2/dlq, POST /v2/dlq/retry.
  dlq: new Set([...UNIVERSAL, ...IDENTITY, 'messageId', 'responseStatus', 'dlqIds']),
};
const PAGING = new Set(['count', 'cursor']);
const NUMERIC = new Set(['fromDate', 'toDate', 'responseStatus']);

/**
 * The filter of a bulk request: query parameters and (older clients) a JSON body's fields, each
 * field a list of strings. Throws 400 for a field `kind` does not know, an empty value, or a
 * number that is not one; `count` must be a whole number of at least 1.
 * @param {'cancel' | 'dlq'} kind
 * @returns {{ filter: Record<string, string[]>, count?: number, cursor?: string }}
 */
export function readBulkFilter(kind, searchParams, json) {
  const known = FILTER_FIELDS[kind];
  const filter = {};
  const add = (field, value) => {
    if (!known.has(field)) {
      const hint = kind === 'dlq' && (field === 'host' || field === 'path') ? ' (host and path filter only message cancels)' : '';
      throw new QStashError(400, `unknown filter field "${field}"${hint}; this endpoint takes ${[...known, ...PAGING].join(', ')}`);
    }
    const text = String(value);
    if (text === '') throw new QStashError(400, `filter field "${field}" is empty`);
    if (NUMERIC.has(field) && !/^\d+$/.test(text)) throw new QStashError(400, `filter field "${field}" must be a whole number, not "${text}"`);
    (filter[field] ??= []).push(text);
  };
  let count;
  let cursor;
  const page = (field, value) => {
    if (field === 'cursor') cursor = String(value) || undefined;
    else {
      const text = String(value);
      if (!/^\d+$/.test(text) || Number(text) < 1) throw new QStashError(400, `count must be a whole number of at least 1, not "${text}"`);
      count = Number(text);
    }
  };
  for (const [field, value] of searchParams) (PAGING.has(field) ? page : add)(field, value);
  if (json !== undefined) {
    if (json === null || typeof json !== 'object' || Array.isArray(json)) throw new QStashError(400, 'the request body must be a JSON object of filter fields');
    for (const [field, value] of Object.entries(json)) {
      if (value === undefined || value === null) continue;
      for (const one of Array.isArray(value) ? value : [value]) (PAGING.has(field) ? page : add)(field, one);
    }
  }
  return { filter, count, cursor };
}

/** True when `item` (a message or DLQ view) passes every field of `filter`. */
export function matchesFilter(item, filter) {
  for (const [field, wanted] of Object.entries(filter)) {
    if (!matchesField(item, field, wanted)) return false;
  }
  return true;
}

function matchesField(item, field, wanted) {
  switch (field) {
    case 'dlqIds':
      return wanted.includes(item.dlqId);
    case 'messageIds':
      return wanted.includes(item.messageId);
    case 'label':
      return (item.labels ?? []).some((label) => wanted.includes(label));
    case 'responseStatus':
      return item.responseStatus !== undefined && wanted.includes(String(item.responseStatus));
    case 'fromDate':
      return item.createdAt >= Math.max(...wanted.map(Number));
    case 'toDate':
      return item.createdAt <= Math.min(...wanted.map(Number));
    case 'host':
      // With or without the port: which of the two QStash compares is not documented.
      return wanted.includes(urlPart(item.url, 'host')) || wanted.includes(urlPart(item.url, 'hostname'));
    case 'path':
      return wanted.includes(urlPart(item.url, 'pathname'));
    default:
      // url, topicName, scheduleId, queueName, messageId, callerIp, flowControlKey: equal to one of
      // the values. An item without the field matches none (no schedules here: scheduleId matches
      // nothing, as it would for messages that came from no schedule).
      return item[field] !== undefined && wanted.includes(String(item[field]));
  }
}

function urlPart(url, part) {
  try {
    return new URL(url)[part];
  } catch {
    return undefined;
  }
}
