import { describe, expect, it } from 'vitest';
import { SpanKind, SpanStatus, Tracer, type SpanRecord } from '../../../shared/observability/span';
import type { BatchMessage, EventPublisher } from '../../../shared/outbox/outbox-message';
import { tracedPublisher } from '../../../shared/outbox/traced-publisher';

const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const event = (id: string, parentSpan: string | null) =>
  JSON.stringify({ specversion: '1.0', id, type: 'order.placed', source: 'stratus/orders', ...(parentSpan ? { traceparent: `00-${TRACE}-${parentSpan}-01` } : {}) });

/** A tracer whose finished spans land in `spans`. */
function recordingTracer() {
  const spans: SpanRecord[] = [];
  return { tracer: new Tracer({ span: (record) => spans.push(record) }), spans };
}

describe('tracedPublisher, batching', () => {
  it('makes one PRODUCER span per event under its own request, and sends each event naming its span', async () => {
    const { tracer, spans } = recordingTracer();
    const sent: BatchMessage[] = [];
    const inner: EventPublisher = {
      publish: async () => ['m'],
      publishBatch: async (messages) => {
        sent.push(...messages);
        return messages.map((m) => (m.deduplicationId === 'evt_2' ? { error: 'refused' } : { messageIds: ['m1', 'm2'] }));
      },
    };
    const destination = { kind: 'topic', topic: 'order-events' } as const;

    const outcomes = await tracedPublisher(inner, tracer).publishBatch!([
      { destination, body: event('evt_1', '00f067aa0ba902b7'), deduplicationId: 'evt_1' },
      { destination, body: event('evt_2', '1111111111111111'), deduplicationId: 'evt_2' },
      { destination, body: event('evt_3', null), deduplicationId: 'evt_3' },
    ]);

    expect(outcomes.map((o) => 'error' in o)).toEqual([false, true, false]);
    expect(spans.map((s) => [s.name, s.kind, s.parentSpanId, s.status])).toEqual([
      ['publish order.placed', SpanKind.PRODUCER, '00f067aa0ba902b7', SpanStatus.UNSET],
      ['publish order.placed', SpanKind.PRODUCER, '1111111111111111', SpanStatus.ERROR],
    ]);
    expect(spans[0]!.attributes).toMatchObject({ 'messaging.destination.name': 'order-events', 'cloudevents.event_id': 'evt_1', 'messaging.batch.message_count': 2 });
    // Each event leaves naming its own publish span; the one without a trace leaves untouched.
    const sentParents = sent.map((m) => (JSON.parse(m.body) as { traceparent?: string }).traceparent);
    expect(sentParents).toEqual([`00-${TRACE}-${spans[0]!.spanId}-01`, `00-${TRACE}-${spans[1]!.spanId}-01`, undefined]);
    expect(sent[2]!.body).toBe(event('evt_3', null));
  });

  it('ends every span as an error when the batch request fails, and rethrows', async () => {
    const { tracer, spans } = recordingTracer();
    const inner: EventPublisher = {
      publish: async () => ['m'],
      publishBatch: async () => {
        throw new Error('QStash answered 500');
      },
    };
    const destination = { kind: 'topic', topic: 'order-events' } as const;
    const batch = ['evt_1', 'evt_2'].map((id) => ({ destination, body: event(id, '00f067aa0ba902b7'), deduplicationId: id }));

    await expect(tracedPublisher(inner, tracer).publishBatch!(batch)).rejects.toThrow('QStash answered 500');
    expect(spans.map((s) => [s.status, s.attributes?.['exception.message']])).toEqual([
      [SpanStatus.ERROR, 'QStash answered 500'],
      [SpanStatus.ERROR, 'QStash answered 500'],
    ]);
  });

  it('leaves a publisher that cannot batch without publishBatch, so the dispatcher goes row by row', () => {
    const { tracer } = recordingTracer();
    expect(tracedPublisher({ publish: async () => ['m'] }, tracer).publishBatch).toBeUndefined();
  });
});
