// What a publish request becomes: the message record QStash keeps, read from the request's
// Upstash-* headers, and the JSON views of it the API answers with.
import { createHash, randomBytes } from 'node:crypto';
import { isUtf8 } from 'node:buffer';
import { compileRetryDelay, parseDuration } from './timing.mjs';

/** An API refusal: the routes answer `status` with `{"error": message}`, as QStash does. */
export class QStashError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

const METHODS = new Set(['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD']);
const FORWARD_PREFIX = 'upstash-forward-';

/** Header names as Go's net/http writes them ("content-type" -> "Content-Type"): QStash's form. */
export const canonicalHeaderName = (name) => name.toLowerCase().replace(/(^|-)([a-z])/g, (_, dash, letter) => dash + letter.toUpperCase());

/** Header pairs as QStash's JSON shows headers: name -> list of values. */
export function headerRecord(pairs) {
  const record = {};
  for (const [name, value] of pairs) (record[canonicalHeaderName(name)] ??= []).push(value);
  return record;
}

/**
 * What is sent on to the destination: the publish request's Content-Type and every
 * Upstash-Forward-* header with the prefix taken off. Nothing else of the publisher's request
 * (its Authorization least of all) reaches the destination.
 */
export function forwardedHeaders(headers) {
  const pairs = [];
  const contentType = headers.get('content-type');
  if (contentType) pairs.push(['Content-Type', contentType]);
  for (const [name, value] of headers) {
    if (name.startsWith(FORWARD_PREFIX) && name.length > FORWARD_PREFIX.length) pairs.push([canonicalHeaderName(name.slice(FORWARD_PREFIX.length)), value]);
  }
  return pairs;
}

/** An http(s) URL, or undefined; `what` names it in the 400. */
function httpUrl(value, what) {
  if (value == null || value === '') return undefined;
  let url;
  try {
    url = new URL(value);
  } catch {
    throw new QStashError(400, `${what} is not a valid URL: ${value}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new QStashError(400, `${what} must be an http or https URL: ${value}`);
  return value;
}

const NAME = /^[\w.-]+$/;
/** Queue and URL group names: letters, digits, '-', '_' and '.', as QStash allows. */
export function checkName(name, what) {
  if (!NAME.test(name ?? '')) throw new QStashError(400, `${what} name "${name ?? ''}" may only contain letters, digits, '-', '_' and '.'`);
  return name;
}

export const isDestinationUrl = (destination) => /^https?:\/\//i.test(destination);
export const checkDestinationUrl = (destination) => httpUrl(destination, 'destination');

/**
 * Reads the Upstash-* options of a publish (or batch item) from its headers. Throws QStashError
 * 400 for a value QStash would refuse, so a typo fails at publish time and not at delivery.
 */
export function publishOptions(headers, { now, defaults }) {
  const method = (headers.get('upstash-method') ?? 'POST').toUpperCase();
  if (!METHODS.has(method)) throw new QStashError(400, `Upstash-Method ${method} is not one of ${[...METHODS].join(', ')}`);

  let notBefore = now;
  const delay = headers.get('upstash-delay');
  if (delay != null) {
    const ms = parseDuration(delay);
    if (ms === undefined) throw new QStashError(400, `Upstash-Delay "${delay}" is not a duration: a whole number and s, m, h or d (50s, 3m, 10h, 1d)`);
    notBefore = now + ms * defaults.delayScale;
  }
  // An absolute time wins over a relative delay (unix seconds).
  const notBeforeHeader = headers.get('upstash-not-before');
  if (notBeforeHeader != null) {
    if (!/^\d+$/.test(notBeforeHeader)) throw new QStashError(400, `Upstash-Not-Before "${notBeforeHeader}" is not a unix time in seconds`);
    notBefore = Number(notBeforeHeader) * 1_000;
  }

  let maxRetries = defaults.maxRetries;
  const retries = headers.get('upstash-retries');
  if (retries != null) {
    if (!/^\d+$/.test(retries)) throw new QStashError(400, `Upstash-Retries "${retries}" is not a whole number`);
    maxRetries = Number(retries);
  }

  const retryDelayExpression = headers.get('upstash-retry-delay') ?? undefined;
  let retryDelay;
  if (retryDelayExpression !== undefined) {
    try {
      retryDelay = compileRetryDelay(retryDelayExpression);
    } catch (error) {
      throw new QStashError(400, error.message);
    }
  }

  let timeoutMs = defaults.deliveryTimeoutMs;
  const timeout = headers.get('upstash-timeout');
  if (timeout != null) {
    const ms = parseDuration(timeout);
    if (!ms) throw new QStashError(400, `Upstash-Timeout "${timeout}" is not a duration: a whole number and s, m, h or d (30s, 2m)`);
    timeoutMs = ms;
  }

  const contentBased = (headers.get('upstash-content-based-deduplication') ?? '').toLowerCase() === 'true';
  return {
    method,
    notBefore,
    maxRetries,
    retryDelayExpression,
    retryDelay,
    timeoutMs,
    callback: httpUrl(headers.get('upstash-callback'), 'Upstash-Callback'),
    failureCallback: httpUrl(headers.get('upstash-failure-callback'), 'Upstash-Failure-Callback'),
    deduplicationId: headers.get('upstash-deduplication-id') || undefined,
    contentBased,
    labels: labelsOf(headers.get('upstash-label')),
    flowControlKey: headers.get('upstash-flow-control-key') || undefined,
  };
}

/**
 * Upstash-Label: one label, or several comma-separated (the client's `label: ["a", "b"]`). They
 * stay a list: a filter on "a" finds the message, and it reads back as labels ["a", "b"].
 */
function labelsOf(header) {
  if (header == null) return undefined;
  const labels = header.split(',').map((label) => label.trim()).filter(Boolean);
  return labels.length > 0 ? labels : undefined;
}

/**
 * The deduplication key of a publish, if it asks for one. QStash documents that a duplicate of a
 * publish to the same destination within the retention window is not delivered again; whether an
 * explicit Upstash-Deduplication-Id also covers other destinations is not documented. This server
 * takes the stricter reading: an explicit id is account-wide (the same id to another URL, group or
 * queue is a duplicate too), so code that needs a reused id delivered twice fails here, not after
 * deploy. A content-based id is what QStash documents it to be: a hash of the destination, body
 * and forwarded headers (and the queue), so it is per destination by construction.
 */
export function deduplicationKey({ options, destination, queueName, body, forwarded }) {
  if (options.deduplicationId) return `id:${options.deduplicationId}`;
  if (!options.contentBased) return undefined;
  const hash = createHash('sha256');
  hash.update(JSON.stringify([queueName ?? '', destination, [...forwarded].sort(([a], [b]) => a.localeCompare(b))]));
  hash.update('\n');
  hash.update(body);
  return `content:${hash.digest('hex')}`;
}

export const newMessageId = () => `msg_${randomBytes(24).toString('base64url')}`;

/** `body` when the bytes are UTF-8, else `bodyBase64`: QStash's rule for bodies in JSON. */
export function bodyFields(bytes, textKey, base64Key) {
  if (!bytes || bytes.length === 0) return {};
  return isUtf8(bytes) ? { [textKey]: bytes.toString('utf8') } : { [base64Key]: bytes.toString('base64') };
}

/** GET /v2/messages/{id}: the message as QStash shows it (times in unix milliseconds). */
export function messageView(message) {
  return {
    messageId: message.messageId,
    url: message.url,
    ...(message.topicName !== undefined && { topicName: message.topicName }),
    ...(message.endpointName !== undefined && { endpointName: message.endpointName }),
    ...(message.queueName !== undefined && { queueName: message.queueName }),
    method: message.method,
    header: headerRecord(message.headers),
    ...bodyFields(message.body, 'body', 'bodyBase64'),
    maxRetries: message.maxRetries,
    ...(message.retryDelayExpression !== undefined && { retryDelayExpression: message.retryDelayExpression }),
    notBefore: message.notBefore,
    createdAt: message.createdAt,
    ...(message.callback !== undefined && { callback: message.callback }),
    ...(message.failureCallback !== undefined && { failureCallback: message.failureCallback }),
    // `label` is the first label only (the client marks it deprecated for that reason).
    ...(message.labels !== undefined && { label: message.labels[0], labels: [...message.labels] }),
    ...(message.flowControlKey !== undefined && { flowControlKey: message.flowControlKey }),
    ...(message.scheduleId !== undefined && { scheduleId: message.scheduleId }),
    callerIp: message.callerIp,
  };
}

/** What a publish answers per message: `{messageId, url, deduplicated?}`. */
export const publishAnswer = (message, deduplicated) => ({
  messageId: message.messageId,
  url: message.url,
  ...(deduplicated && { deduplicated: true }),
});
