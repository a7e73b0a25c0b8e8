import { Client } from '@upstash/qstash';
import { CLOUD_EVENT_CONTENT_TYPE } from '../../events/cloud-event';
import { parseTraceparent } from '../../observability/trace-context';
import type { BatchOutcome, EventPublisher, OutboxDestination } from '../../outbox/outbox-message';

export interface QStashPublisherOptions {
  /** QSTASH_URL: the local QStash-compatible server or Upstash's. */
  url: string;
  /** QSTASH_TOKEN. */
  token: string;
}

/**
 * The outbox's EventPublisher on QStash, through the official client only (swapping the local
 * server for Upstash's is configuration: docs/architecture.md, decision 7):
 * - topic → `publish({ urlGroup })`, fanned out by QStash to every endpoint of the URL group;
 * - queue → `queue({ queueName }).enqueue({ url })`, delivered in order with the queue's parallelism;
 * - url   → `publish({ url })`.
 * Every message carries the event id as its deduplication id and is sent as structured-mode
 * CloudEvents JSON. The event's `traceparent` extension also goes out as a forwarded
 * `traceparent` header (`Upstash-Forward-traceparent`), so the delivery's HTTP hops (gateway,
 * consumer) continue the producer's trace in their own logs.
 *
 * The client's own retries are off: the outbox already retries a failed row with backoff, and a
 * publish that hangs in client retries would only hold the dispatcher's claim longer. Dev mode is
 * off so the client never reaches for a dev server or environment credentials of its own.
 */
/** The event's traceparent extension, if the body is an event that has a valid one. */
function traceparentOf(body: string): string | undefined {
  try {
    const traceparent = (JSON.parse(body) as { traceparent?: unknown }).traceparent;
    return typeof traceparent === 'string' && parseTraceparent(traceparent) ? traceparent : undefined;
  } catch {
    return undefined;
  }
}

/** The headers every message carries: the CloudEvents content type, and the event's traceparent to forward. */
function messageHeaders(body: string): Record<string, string> {
  const headers: Record<string, string> = { 'content-type': CLOUD_EVENT_CONTENT_TYPE };
  const traceparent = traceparentOf(body);
  if (traceparent) headers.traceparent = traceparent;
  return headers;
}

/** Where a batch item goes, in the client's terms (the same three kinds as `publish`). */
function batchTarget(destination: OutboxDestination): { urlGroup: string } | { url: string; queueName?: string } {
  switch (destination.kind) {
    case 'topic':
      return { urlGroup: destination.topic };
    case 'queue':
      return { url: destination.url, queueName: destination.queue };
    case 'url':
      return { url: destination.url };
  }
}

/**
 * One item of QStash's batch answer: an array of `{messageId}` for a URL group (one per endpoint),
 * one `{messageId}` for a URL or queue, or `{error}` when QStash refused that item.
 */
function batchOutcome(answer: unknown): BatchOutcome {
  const answers = Array.isArray(answer) ? answer : [answer];
  const refused = answers.find((item): item is { error: unknown } => typeof item === 'object' && item !== null && 'error' in item);
  if (refused) return { error: `QStash refused the message: ${String(refused.error)}` };
  const ids = answers.map((item) => (typeof item === 'object' && item !== null ? (item as { messageId?: unknown }).messageId : undefined));
  if (ids.length === 0 || !ids.every((id): id is string => typeof id === 'string')) return { error: `QStash answered without a message id: ${JSON.stringify(answer)}` };
  return { messageIds: ids };
}

export function qstashPublisher(options: QStashPublisherOptions): EventPublisher {
  const client = new Client({ baseUrl: options.url, token: options.token, retry: false, enableTelemetry: false, devMode: false });
  return {
    /**
     * Every message in one `POST /v2/batch`, in order; QStash answers one item per message, so
     * one refused message fails alone. A destination of each kind goes as `publish` sends it.
     */
    async publishBatch(messages) {
      const answers: unknown[] = await client.batch(
        messages.map(({ destination, body, deduplicationId }) => ({ ...batchTarget(destination), body, headers: messageHeaders(body), deduplicationId })),
      );
      return answers.map(batchOutcome);
    },

    async publish(destination, body, { deduplicationId }) {
      const message = { body, headers: messageHeaders(body), deduplicationId };
      switch (destination.kind) {
        case 'topic': {
          const answers: unknown = await client.publish({ ...message, urlGroup: destination.topic });
          // One answer per endpoint; a single object is taken too (a deduplicated publish may be one).
          return (Array.isArray(answers) ? answers : [answers]).map((answer) => (answer as { messageId: string }).messageId);
        }
        case 'queue': {
          const answer = await client.queue({ queueName: destination.queue }).enqueue({ ...message, url: destination.url });
          return [answer.messageId];
        }
        case 'url': {
          const answer = await client.publish({ ...message, url: destination.url });
          return [answer.messageId];
        }
      }
    },
  };
}
