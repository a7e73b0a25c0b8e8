import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { cloudEvent, cloudEventSchema, cloudEventSchemaOf, parseCloudEvent } from '../../../shared/events/cloud-event';
import { continueTrace, outgoingTraceparent } from '../../../shared/observability/trace-context';

const TRACEPARENT = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
const data = { orderId: 'ord_1', totalCents: 1299, currency: 'EUR' };

describe('cloudEvent', () => {
  it('has every required CloudEvents 1.0 attribute', () => {
    const event = cloudEvent({ type: 'order.completed', source: 'stratus/orders', subject: 'ord_1', data });
    expect(event).toMatchObject({ specversion: '1.0', type: 'order.completed', source: 'stratus/orders', subject: 'ord_1', datacontenttype: 'application/json', data });
    expect(event.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(new Date(event.time).toISOString()).toBe(event.time);
  });

  it('makes a fresh id per event unless one is given', () => {
    const a = cloudEvent({ type: 't', source: 's', data: null });
    const b = cloudEvent({ type: 't', source: 's', data: null });
    expect(a.id).not.toBe(b.id);
    expect(cloudEvent({ type: 't', source: 's', data: null, id: 'evt_1' }).id).toBe('evt_1');
  });

  it('takes the time given, as a string or a Date', () => {
    expect(cloudEvent({ type: 't', source: 's', data: 1, time: new Date(0) }).time).toBe('1970-01-01T00:00:00.000Z');
    expect(cloudEvent({ type: 't', source: 's', data: 1, time: '2026-01-02T03:04:05Z' }).time).toBe('2026-01-02T03:04:05Z');
  });

  it('leaves out subject and traceparent when not given', () => {
    const event = cloudEvent({ type: 't', source: 's', data: 1 });
    expect('subject' in event).toBe(false);
    expect('traceparent' in event).toBe(false);
  });

  it('carries the trace as the traceparent extension, from a header or a TraceContext', () => {
    expect(cloudEvent({ type: 't', source: 's', data: 1, traceparent: TRACEPARENT }).traceparent).toBe(TRACEPARENT);
    const trace = continueTrace(TRACEPARENT, null);
    const event = cloudEvent({ type: 't', source: 's', data: 1, traceparent: trace });
    expect(event.traceparent).toBe(outgoingTraceparent(trace));
    // Same trace, this hop's span as the parent.
    expect(event.traceparent?.split('-')[1]).toBe('4bf92f3577b34da6a3ce929d0e0e4736');
  });

  it('drops an invalid traceparent instead of passing it on', () => {
    expect(cloudEvent({ type: 't', source: 's', data: 1, traceparent: 'not-a-trace' }).traceparent).toBeUndefined();
    expect(cloudEvent({ type: 't', source: 's', data: 1, traceparent: null }).traceparent).toBeUndefined();
  });

  it('survives a JSON round trip as a valid event', () => {
    const event = cloudEvent({ type: 'order.completed', source: 'stratus/orders', subject: 'ord_1', data, traceparent: TRACEPARENT });
    const parsed = parseCloudEvent(JSON.stringify(event));
    expect(parsed).toEqual({ ok: true, event });
  });
});

describe('cloudEventSchema', () => {
  const valid = { specversion: '1.0', id: 'e1', source: 'stratus/orders', type: 'order.completed', data: {} };

  it('requires specversion 1.0, id, source and type', () => {
    expect(cloudEventSchema.safeParse(valid).success).toBe(true);
    for (const attribute of ['specversion', 'id', 'source', 'type'] as const) {
      const { [attribute]: _dropped, ...rest } = valid;
      expect(cloudEventSchema.safeParse(rest).success, attribute).toBe(false);
    }
    expect(cloudEventSchema.safeParse({ ...valid, specversion: '0.3' }).success).toBe(false);
    expect(cloudEventSchema.safeParse({ ...valid, id: '' }).success).toBe(false);
  });

  it('refuses a time that is not RFC 3339', () => {
    expect(cloudEventSchema.safeParse({ ...valid, time: 'yesterday' }).success).toBe(false);
    expect(cloudEventSchema.safeParse({ ...valid, time: '2026-01-02T03:04:05.123+02:00' }).success).toBe(true);
  });

  it('keeps extension attributes it does not know', () => {
    const result = cloudEventSchema.safeParse({ ...valid, partitionkey: 'p1' });
    expect(result.success && result.data.partitionkey).toBe('p1');
  });

  it('types data for a consumer that knows its shape', () => {
    const schema = cloudEventSchemaOf(z.object({ mailId: z.string() }));
    expect(schema.safeParse({ ...valid, data: { mailId: 'm1' } }).success).toBe(true);
    expect(schema.safeParse({ ...valid, data: { mailId: 1 } }).success).toBe(false);
  });
});

describe('parseCloudEvent', () => {
  it('reports a body that is not JSON', () => {
    expect(parseCloudEvent('{nope')).toEqual({ ok: false, issues: [{ path: '(root)', message: 'The body is not JSON.' }] });
  });

  it('names the attribute that is missing', () => {
    const parsed = parseCloudEvent(JSON.stringify({ specversion: '1.0', id: 'e1', source: 's' }));
    expect(parsed.ok).toBe(false);
    expect(!parsed.ok && parsed.issues.map((issue) => issue.path)).toEqual(['type']);
  });
});
