import { Client } from '@upstash/qstash';
import { HttpError } from '../../../shared/http/problem';
import type { GatewayBindings } from '../env';

/**
 * The QStash dead-letter queue: deliveries that failed every retry (docs/api.md `GET /_ops/dlq`),
 * read with the official client, so the local QStash and Upstash's answer alike. Bodies are
 * shown as the consumer would have received them (text), with the consumer's last answer.
 */
function client(env: GatewayBindings): Client {
  if (!env.QSTASH_URL || !env.QSTASH_TOKEN) {
    throw new HttpError(503, { type: 'qstash-not-configured', detail: 'QSTASH_URL and QSTASH_TOKEN are not set on the gateway.' });
  }
  return new Client({ baseUrl: env.QSTASH_URL, token: env.QSTASH_TOKEN, retry: false });
}

export async function listDeadLetters(env: GatewayBindings, cursor?: string, count = 50) {
  const page = await client(env).dlq.listMessages({ cursor, count });
  return {
    items: page.messages.map((m) => ({
      dlqId: m.dlqId,
      messageId: m.messageId,
      url: m.url,
      topicName: m.topicName ?? null,
      queueName: m.queueName ?? null,
      createdAt: new Date(m.createdAt).toISOString(),
      responseStatus: m.responseStatus ?? null,
      responseBody: m.responseBody ?? null,
      body: m.body ?? null,
      maxRetries: m.maxRetries ?? null,
    })),
    cursor: page.cursor ?? null,
  };
}

/** How many deliveries the dead-letter queue holds (the first page, up to 100); null without QStash. */
export async function countDeadLetters(env: GatewayBindings): Promise<number | null> {
  if (!env.QSTASH_URL || !env.QSTASH_TOKEN) return null;
  const page = await client(env).dlq.listMessages({ count: 100 });
  return page.messages.length;
}

export async function deleteDeadLetter(env: GatewayBindings, dlqId: string): Promise<void> {
  await client(env).dlq.delete(dlqId);
}

/**
 * Sends one dead letter to its consumer again (QStash's DLQ retry: a new message, retries from
 * zero, the dead letter removed). Answers the new message id, or null when there is no such
 * dead letter.
 */
export async function redriveDeadLetter(env: GatewayBindings, dlqId: string): Promise<string | null> {
  const { responses } = await client(env).dlq.retry(dlqId);
  return responses[0]?.messageId ?? null;
}

/** Pages of dead letters one bulk redrive sends at most (100 each): a bound on one request's work. */
const REDRIVE_PAGES = 10;

/** Sends every dead letter (or every one of a topic) again, page by page; answers the new message ids. */
export async function redriveDeadLetters(env: GatewayBindings, topic?: string): Promise<{ messageIds: string[]; more: boolean }> {
  const dlq = client(env).dlq;
  const messageIds: string[] = [];
  let cursor: string | undefined;
  for (let page = 0; page < REDRIVE_PAGES; page++) {
    const result = await dlq.retry(topic ? { filter: { urlGroup: topic }, count: 100, cursor } : { all: true, count: 100, cursor });
    messageIds.push(...result.responses.map((response) => response.messageId));
    cursor = result.cursor;
    if (!cursor) return { messageIds, more: false };
  }
  return { messageIds, more: true };
}
