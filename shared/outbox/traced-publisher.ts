import { parentOf, SpanKind, type Tracer } from '../observability/span';
import type { EventPublisher, OutboxDestination } from './outbox-message';

const destinationName = (destination: OutboxDestination) =>
  destination.kind === 'topic' ? destination.topic : destination.kind === 'queue' ? destination.queue : destination.url;

/**
 * The outbox's publisher with one span per publish (`publish <event type>`, PRODUCER), a child of
 * the request whose commit wrote the event (the CloudEvent's `traceparent`). The event leaves
 * naming the publish span as its parent instead, so the delivery's hops (the gateway's hook
 * request, the consumer's `deliver` span) hang under the publish that caused them in one trace.
 *
 * The row's id stays the deduplication id, so a row published twice is still one message (the
 * traceparent may differ between the two bodies; QStash dedupes by id, not by content). An event
 * without a valid traceparent (or tracing off) goes out untouched.
 */
export function tracedPublisher(publisher: EventPublisher, tracer: Tracer): EventPublisher {
  if (!tracer.enabled) return publisher;
  return {
    publish(destination, body, options) {
      let event: Record<string, unknown>;
      try {
        event = JSON.parse(body) as Record<string, unknown>;
      } catch {
        return publisher.publish(destination, body, options);
      }
      const parent = parentOf(typeof event.traceparent === 'string' ? event.traceparent : null);
      if (!parent) return publisher.publish(destination, body, options);
      const type = typeof event.type === 'string' ? event.type : 'event';
      return tracer.trace(
        `publish ${type}`,
        SpanKind.PRODUCER,
        parent,
        async (span) => {
          const messageIds = await publisher.publish(destination, JSON.stringify({ ...event, traceparent: span.traceparent() }), options);
          span.setAttribute('messaging.batch.message_count', messageIds.length);
          return messageIds;
        },
        {
          'messaging.system': 'qstash',
          'messaging.operation.type': 'send',
          'messaging.destination.name': destinationName(destination),
          'cloudevents.event_id': typeof event.id === 'string' ? event.id : undefined,
          'cloudevents.event_type': type,
        },
      );
    },
  };
}
