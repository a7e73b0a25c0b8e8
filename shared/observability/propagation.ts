import { REQUEST_ID_HEADER } from './request-id';
import { outgoingTraceparent, type TraceContext } from './trace-context';

/**
 * The headers that carry one request's identity across a service boundary. Every call a worker
 * makes to another (service binding or HTTP) goes through `withPropagation`, so the same request
 * id and trace reach every service the request touches.
 */
export function withPropagation(headers: Headers, requestId: string, trace: TraceContext): Headers {
  headers.set(REQUEST_ID_HEADER, requestId);
  headers.set('traceparent', outgoingTraceparent(trace));
  if (trace.tracestate) headers.set('tracestate', trace.tracestate);
  else headers.delete('tracestate');
  return headers;
}
