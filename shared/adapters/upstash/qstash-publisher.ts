import { Client } from '@upstash/qstash';
import { CLOUD_EVENT_CONTENT_TYPE } from '../../events/cloud-event';
import type { EventPublisher } from '../../outbox/outbox-message';

export interface QStashPublisherOptions {
  /** QSTASH_URL: the local QStash-compatible server or Upstash's. */
  url: string;
  /** QSTASH_TOKEN. */
  token: string;
}

/**
 * The outbox's EventPublisher on QStash, through the official client only (swapping the local
 * server for Upstash's is configuration: DESIGN.md decision 7):
 * - topic → `publish({ urlGroup })`, fanned out by QStash to every endpoint of the URL group;
 * - queue → `queue({ queueName }).enqueue({ url })`, delivered in order with the queue's parallelism;
 * - url   → `publish({ url })`.
 * Every message carries the event id as its deduplication id and is sent as structured-mode
 * CloudEvents JSON.
 *
 * The client's own retries are off: the outbox already retries a failed row with backoff, and a
 * publish that hangs in client retries would only hold the dispatcher's claim longer. Dev mode is
 * off so the client never reaches for a dev server or environment credentials of its own.
 */
export function qstashPublisher(options: QStashPublisherOptions): EventPublisher {
  const client = new Client({ baseUrl: options.url, token: options.token, retry: false, enableTelemetry: false, devMode: false });
  return {
    async publish(destination, body, { deduplicationId }) {
      const message = { body, headers: { 'content-type': CLOUD_EVENT_CONTENT_TYPE }, deduplicationId };
      switch (destination.kind) {
        case 'topic': {
          const answers = await client.publish({ ...message, urlGroup: destination.topic });
          return answers.map((answer) => answer.messageId);
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
