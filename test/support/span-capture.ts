import { afterEach, beforeEach, vi } from 'vitest';
import type { OtlpAnyValue, OtlpTracesRequest } from '../../shared/observability/otlp-json';
import { SpanKind } from '../../shared/observability/span';

/** A span as a worker exported it, flattened: its service, ids, name, kind and attributes as plain values. */
export interface CapturedSpan {
  service: string;
  traceId: string;
  spanId: string;
  parentSpanId: string | undefined;
  name: string;
  kind: number;
  status: number;
  attributes: Record<string, unknown>;
}

/** Where workers in a test export to: never a real host, answered by `captureSpans` in this isolate. */
export const OTEL_TEST_ENDPOINT = 'http://otel.test';

const plain = (value: OtlpAnyValue): unknown => value.stringValue ?? value.boolValue ?? (value.intValue === undefined ? value.doubleValue : Number(value.intValue));

function flatten(body: OtlpTracesRequest): CapturedSpan[] {
  return body.resourceSpans.flatMap((resource) => {
    const service = String(resource.resource.attributes.find((a) => a.key === 'service.name')?.value.stringValue);
    return resource.scopeSpans.flatMap((scope) =>
      scope.spans.map((span) => ({
        service,
        traceId: span.traceId,
        spanId: span.spanId,
        parentSpanId: span.parentSpanId,
        name: span.name,
        kind: span.kind,
        status: span.status.code,
        attributes: Object.fromEntries(span.attributes.map((a) => [a.key, plain(a.value)])),
      })),
    );
  });
}

/**
 * Records the spans that workers running in this isolate (called with `bindings`, which turn
 * export on, each request's spans sent as it ends) send to their collector: the global `fetch` answers OTEL_TEST_ENDPOINT itself and
 * passes every other call on. A worker's export runs in its request's `waitUntil`, which
 * `callWorker` waits for, so the spans are here when the call returns. `restore()` after the test.
 */
export function captureSpans() {
  const spans: CapturedSpan[] = [];
  const passOn = globalThis.fetch;
  const spy = vi.spyOn(globalThis, 'fetch').mockImplementation(async (input: RequestInfo | URL, init?: RequestInit) => {
    // The URL without building a Request from `input`, which would take over its body.
    const url = input instanceof Request ? input.url : String(input);
    if (!url.startsWith(OTEL_TEST_ENDPOINT)) return passOn(input, init);
    if (url.endsWith('/v1/traces')) spans.push(...flatten(JSON.parse(String(init?.body)) as OtlpTracesRequest));
    return Response.json({});
  });
  return {
    spans,
    bindings: { OTEL_EXPORTER_OTLP_ENDPOINT: OTEL_TEST_ENDPOINT, OTEL_BSP_SCHEDULE_DELAY: '0' },
    restore: () => spy.mockRestore(),
  };
}

/**
 * `captureSpans` around every test of the file that calls it: `capture.spans` holds the test's own
 * spans (emptied before each), `capture.bindings` turns export on for a call.
 */
export function captureSpansEachTest() {
  const capture = { spans: [] as CapturedSpan[], bindings: { OTEL_EXPORTER_OTLP_ENDPOINT: OTEL_TEST_ENDPOINT, OTEL_BSP_SCHEDULE_DELAY: '0' } };
  let restore = () => {};
  beforeEach(() => {
    const current = captureSpans();
    capture.spans = current.spans;
    restore = current.restore;
  });
  afterEach(() => restore());
  return capture;
}

/** The CLIENT spans whose parent is the SERVER span named `serverName` (`POST /login`) of `service`. */
export function clientSpansOf(spans: CapturedSpan[], service: string, serverName: string): CapturedSpan[] {
  const server = spans.filter((s) => s.service === service && s.kind === SpanKind.SERVER && s.name === serverName);
  if (server.length !== 1) throw new Error(`expected one ${service} span ${serverName}, found ${server.length} among ${spans.map((s) => `${s.service} ${s.name}`).join(', ')}`);
  return spans.filter((s) => s.parentSpanId === server[0]!.spanId && s.traceId === server[0]!.traceId && s.kind === SpanKind.CLIENT);
}
