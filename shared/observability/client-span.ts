import { SpanKind, SpanStatus, type Attributes, type SpanParent, type Tracer } from './span';

/** What a call's span is called and carries; asked for only when tracing is on. */
export interface CallSpan {
  name: string;
  attributes: Attributes;
}

/**
 * One HTTP call to another worker as a CLIENT span, a child of `parent`: `headers` get a
 * `traceparent` naming the span before `send` builds its request from them, so the callee's own
 * span is the span's child; the span ends when the answer's head arrives (an error on a 5xx or
 * a throw, which is passed on). The gateway's proxied attempts, BFF parts, /_ops calls and
 * readiness checks all go through here, so they read alike in a waterfall.
 *
 * With tracing off, `send` runs as it is: `describe` is never called, nothing is made, and the
 * headers keep the `traceparent` they had (the request's own span, from withPropagation).
 * A retried call calls this once per attempt: each attempt a span, siblings under `parent`.
 */
export function tracedCall(tracer: Tracer, parent: SpanParent, headers: Headers, describe: () => CallSpan, send: () => Promise<Response>): Promise<Response> {
  if (!tracer.enabled) return send();
  const { name, attributes } = describe();
  const span = tracer.start(name, SpanKind.CLIENT, parent, attributes);
  headers.set('traceparent', span.traceparent());
  let sending: Promise<Response>;
  try {
    sending = send();
  } catch (error) {
    // A request that could not even be built (a bad header value) ends its span like a failed call.
    sending = Promise.reject(error);
  }
  return sending.then(
    (answer) => {
      span.setAttribute('http.response.status_code', answer.status).end(answer.status >= 500 ? SpanStatus.ERROR : SpanStatus.UNSET);
      return answer;
    },
    (error: unknown) => {
      span.setAttribute('error.type', error instanceof Error ? error.name : 'error').end(SpanStatus.ERROR);
      throw error;
    },
  );
}
