import { describe, expect, it } from 'vitest';
import { withPropagation } from '../../../shared/observability/propagation';
import { parseTraceparent, type TraceContext } from '../../../shared/observability/trace-context';

const trace: TraceContext = {
  traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
  parentSpanId: '00f067aa0ba902b7',
  spanId: 'b7ad6b7169203331',
  flags: '01',
  tracestate: 'congo=t61rcWkgMzE',
};

describe('withPropagation', () => {
  it('sets the request id and a traceparent naming this hop span as the parent', () => {
    const headers = withPropagation(new Headers(), 'req-1', trace);
    expect(headers.get('x-request-id')).toBe('req-1');
    expect(headers.get('traceparent')).toBe('00-4bf92f3577b34da6a3ce929d0e0e4736-b7ad6b7169203331-01');
    expect(parseTraceparent(headers.get('traceparent'))?.parentSpanId).toBe(trace.spanId);
  });

  it('passes tracestate on unchanged', () => {
    expect(withPropagation(new Headers(), 'r', trace).get('tracestate')).toBe('congo=t61rcWkgMzE');
  });

  it('replaces whatever identity headers the outgoing request already had', () => {
    const headers = new Headers({ 'x-request-id': 'client-spoofed', traceparent: 'garbage', tracestate: 'stale=1', accept: 'application/json' });
    withPropagation(headers, 'req-2', trace);
    expect(headers.get('x-request-id')).toBe('req-2');
    expect(headers.get('traceparent')).toBe('00-4bf92f3577b34da6a3ce929d0e0e4736-b7ad6b7169203331-01');
    expect(headers.get('tracestate')).toBe('congo=t61rcWkgMzE');
    expect(headers.get('accept')).toBe('application/json');
  });

  it('removes a stale tracestate when this trace has none', () => {
    const headers = withPropagation(new Headers({ tracestate: 'stale=1' }), 'r', { ...trace, tracestate: null });
    expect(headers.has('tracestate')).toBe(false);
  });

  it('modifies and returns the same Headers object', () => {
    const headers = new Headers();
    expect(withPropagation(headers, 'r', trace)).toBe(headers);
  });
});
