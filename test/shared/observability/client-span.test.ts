import { describe, expect, it } from 'vitest';
import { tracedCall } from '../../../shared/observability/client-span';
import { DISABLED_TRACER, SpanKind, SpanStatus, Tracer, type SpanRecord } from '../../../shared/observability/span';

const PARENT = { traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: '00f067aa0ba902b7', flags: '01' };
const REQUEST_TRACEPARENT = `00-${PARENT.traceId}-${PARENT.spanId}-01`;

function recordingTracer() {
  const spans: SpanRecord[] = [];
  return { tracer: new Tracer({ span: (record) => spans.push(record) }), spans };
}

const describeCall = () => ({ name: 'GET orders', attributes: { 'url.path': '/sagas' } });

describe('tracedCall', () => {
  it('makes a CLIENT span under the parent, names it in the headers the call is built from, and ends it with the status', async () => {
    const { tracer, spans } = recordingTracer();
    const headers = new Headers({ traceparent: REQUEST_TRACEPARENT });
    let sent: string | null = null;
    const answer = await tracedCall(tracer, PARENT, headers, describeCall, async () => {
      sent = new Request('https://orders.internal/sagas', { headers }).headers.get('traceparent');
      return new Response(null, { status: 204 });
    });
    expect(answer.status).toBe(204);
    expect(spans.map((s) => [s.name, s.kind, s.parentSpanId, s.status, s.attributes])).toEqual([
      ['GET orders', SpanKind.CLIENT, PARENT.spanId, SpanStatus.UNSET, { 'url.path': '/sagas', 'http.response.status_code': 204 }],
    ]);
    expect(sent).toBe(`00-${PARENT.traceId}-${spans[0]!.spanId}-01`);
  });

  it('is an error span on a 5xx, and on a throw (passed on), even one before the call is made', async () => {
    const { tracer, spans } = recordingTracer();
    await tracedCall(tracer, PARENT, new Headers(), describeCall, async () => new Response(null, { status: 503 }));
    await expect(tracedCall(tracer, PARENT, new Headers(), describeCall, () => Promise.reject(new TypeError('network lost')))).rejects.toThrow('network lost');
    await expect(
      tracedCall(tracer, PARENT, new Headers(), describeCall, () => {
        throw new RangeError('bad header');
      }),
    ).rejects.toThrow('bad header');
    expect(spans.map((s) => [s.status, s.attributes?.['http.response.status_code'] ?? s.attributes?.['error.type']])).toEqual([
      [SpanStatus.ERROR, 503],
      [SpanStatus.ERROR, 'TypeError'],
      [SpanStatus.ERROR, 'RangeError'],
    ]);
  });

  it('with tracing off only makes the call: nothing described, the headers left as they were', async () => {
    const headers = new Headers({ traceparent: REQUEST_TRACEPARENT });
    let described = false;
    const answer = await tracedCall(DISABLED_TRACER, PARENT, headers, () => ((described = true), describeCall()), async () => new Response('ok'));
    expect(await answer.text()).toBe('ok');
    expect(described).toBe(false);
    expect(headers.get('traceparent')).toBe(REQUEST_TRACEPARENT);
  });
});
