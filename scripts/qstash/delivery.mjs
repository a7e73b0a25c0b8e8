// One delivery attempt, as QStash makes it: the message's method, body and forwarded headers, plus
// User-Agent, Upstash-Message-Id, Upstash-Retried, Upstash-Topic-Name (URL groups) and a fresh
// Upstash-Signature. 2xx is delivered; any other status, a network error or the timeout is a
// failed attempt that the engine retries.
import { bodyFields, headerRecord } from './messages.mjs';
import { signDelivery } from './signing.mjs';

/** Longest response body kept for the DLQ and callbacks; a runaway endpoint cannot eat the heap. */
const MAX_RESPONSE_BYTES = 1024 * 1024;

/**
 * @returns {Promise<{ ok: boolean, status?: number, headers?: [string, string][], body?: Buffer, error?: string }>}
 */
export async function deliverOnce(message, { signingKey, signal, sendTo = message.url }) {
  const sendsBody = message.method !== 'GET' && message.method !== 'HEAD';
  const headers = new Headers();
  for (const [name, value] of message.headers) headers.append(name, value);
  headers.set('User-Agent', 'Upstash-QStash');
  headers.set('Upstash-Message-Id', message.messageId);
  headers.set('Upstash-Retried', String(message.retried));
  if (message.topicName !== undefined) headers.set('Upstash-Topic-Name', message.topicName);
  if (message.scheduleId !== undefined) headers.set('Upstash-Schedule-Id', message.scheduleId);
  if (message.callerIp) headers.set('Upstash-Caller-Ip', message.callerIp);
  headers.set('Upstash-Signature', await signDelivery({ signingKey, url: message.url, body: sendsBody ? message.body : undefined }));

  const timeout = AbortSignal.timeout(message.timeoutMs);
  try {
    // Signed for message.url; sent to sendTo, which differs only under the engine's routeOrigin.
    const response = await fetch(sendTo, {
      method: message.method,
      headers,
      body: sendsBody && message.body.length > 0 ? message.body : undefined,
      signal: AbortSignal.any([timeout, signal]),
    });
    const body = await readCapped(response);
    return { ok: response.status >= 200 && response.status < 300, status: response.status, headers: [...response.headers], body };
  } catch (error) {
    const why = timeout.aborted ? `no answer within ${message.timeoutMs} ms (Upstash-Timeout)` : (error.cause?.message ?? error.message);
    return { ok: false, error: why };
  }
}

async function readCapped(response) {
  if (!response.body) return Buffer.alloc(0);
  const chunks = [];
  let size = 0;
  for await (const chunk of response.body) {
    chunks.push(chunk);
    size += chunk.length;
    if (size >= MAX_RESPONSE_BYTES) break; // leaving the loop cancels the rest of the stream
  }
  return Buffer.concat(chunks).subarray(0, MAX_RESPONSE_BYTES);
}

/** The attempt's answer in QStash's DLQ fields (nothing when there was no answer at all). */
export function responseFields(outcome) {
  if (outcome.status === undefined) return {};
  return {
    responseStatus: outcome.status,
    responseHeader: headerRecord(outcome.headers ?? []),
    ...bodyFields(outcome.body, 'responseBody', 'responseBodyBase64'),
  };
}

/**
 * The body QStash posts to a callback (after a delivery) or a failure callback (after the last
 * retry, with the DLQ id): the destination's answer (body base64) and what was sent.
 * @param {{ dlqId?: string }} [extra]
 */
export function callbackBody(message, outcome, extra = {}) {
  return JSON.stringify({
    ...(outcome.status !== undefined && {
      status: outcome.status,
      header: headerRecord(outcome.headers ?? []),
      body: (outcome.body ?? Buffer.alloc(0)).toString('base64'),
    }),
    ...(outcome.error !== undefined && { error: outcome.error }),
    retried: message.retried,
    maxRetries: message.maxRetries,
    ...(extra.dlqId !== undefined && { dlqId: extra.dlqId }),
    sourceMessageId: message.messageId,
    ...(message.topicName !== undefined && { topicName: message.topicName }),
    ...(message.endpointName !== undefined && { endpointName: message.endpointName }),
    ...(message.queueName !== undefined && { queueName: message.queueName }),
    url: message.url,
    method: message.method,
    sourceHeader: headerRecord(message.headers),
    sourceBody: message.body.toString('base64'),
    notBefore: String(message.notBefore),
    createdAt: String(message.createdAt),
    callerIP: message.callerIp,
  });
}
