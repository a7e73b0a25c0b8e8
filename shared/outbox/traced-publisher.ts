import { parentOf, SpanKind, SpanStatus, type Span, type Tracer } from '../observability/span';
import type { BatchMessage, BatchOutcome, EventPublisher, OutboxDestination } from './outbox-message';

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
  const batch = publisher.publishBatch?.bind(publisher);
  return {
    /**
     * A batch: one span per event as for `publish`, each under its own request's trace and each
     * lasting the batch's one broker call; the event leaves naming its own span.
     */
    ...(batch
      ? {
          async publishBatch(messages: BatchMessage[]): Promise<BatchOutcome[]> {
            const spans: (Span | null)[] = [];
            const traced = messages.map((message) => {
              const started = startPublishSpan(tracer, message.destination, message.body);
              spans.push(started?.span ?? null);
              return started ? { ...message, body: started.body } : message;
            });
            try {
              const outcomes = await batch(traced);
              outcomes.forEach((outcome, index) => {
                const span = spans[index];
                if (!span) return;
                if ('messageIds' in outcome) span.setAttribute('messaging.batch.message_count', outcome.messageIds.length).end();
                else span.setAttribute('exception.message', outcome.error).end(SpanStatus.ERROR);
              });
              return outcomes;
            } catch (error) {
              for (const span of spans) span?.setAttribute('exception.message', error instanceof Error ? error.message : String(error)).end(SpanStatus.ERROR);
              throw error;
            }
          },
        }
      : {}),
    async publish(destination, body, options) {
      const started = startPublishSpan(tracer, destination, body);
      if (!started) return publisher.publish(destination, body, options);
      const { span } = started;
      try {
        const messageIds = await publisher.publish(destination, started.body, options);
        span.setAttribute('messaging.batch.message_count', messageIds.length).end();
        return messageIds;
      } catch (error) {
        span.setAttribute('exception.message', error instanceof Error ? error.message : String(error)).end(SpanStatus.ERROR);
        throw error;
      }
    },
  };
}

/**
 * The publish span of one event, started now as a child of the request that wrote it, and the
 * body to send (naming that span); null when the event has no valid traceparent (sent untouched).
 */
function startPublishSpan(tracer: Tracer, destination: OutboxDestination, body: string): { span: Span; body: string } | null {
  let event: Record<string, unknown>;
  try {
    event = JSON.parse(body) as Record<string, unknown>;
  } catch {
    return null;
  }
  const parent = parentOf(typeof event.traceparent === 'string' ? event.traceparent : null);
  if (!parent) return null;
  const type = typeof event.type === 'string' ? event.type : 'event';
  const span = tracer.start(`publish ${type}`, SpanKind.PRODUCER, parent, publishAttributes(destination, event, type));
  return { span, body: JSON.stringify({ ...event, traceparent: span.traceparent() }) };
}

/** What a publish span says about its message (the same for one publish and a batch's). */
function publishAttributes(destination: OutboxDestination, event: Record<string, unknown>, type: string) {
  return {
    'messaging.system': 'qstash',
    'messaging.operation.type': 'send',
    'messaging.destination.name': destinationName(destination),
    'cloudevents.event_id': typeof event.id === 'string' ? event.id : undefined,
    'cloudevents.event_type': type,
  };
}
