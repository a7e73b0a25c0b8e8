/**
 * Spans, recorded cheaply: one small object per span, ids from a pooled random buffer, times in
 * epoch milliseconds, nothing awaited. What is recorded goes to a `SpanSink` (otlp-exporter.ts
 * batches it and sends it as OTLP/HTTP JSON from `waitUntil`); with no sink configured a span is
 * a pass-through that only carries its parent's ids on, so propagation works and nothing is kept.
 *
 * Written here rather than with the OpenTelemetry SDK (or @microlabs/otel-cf-workers, which wraps
 * it): the SDK finds the current span through a context manager (AsyncLocalStorage, hence
 * workerd's nodejs_compat on every worker, and Bun/Deno runtimes the gateway also runs on), and
 * builds per span a Span with attribute maps, an hrtime pair per timestamp, a resource reference
 * and a span-processor walk; otel-cf-workers also patches the global fetch and every binding, so
 * the gateway's hot path (its budget is about half of a bare pass-through) would pay for spans
 * nobody asked for. Here the request's context is already explicit (the Hono context, the saga's
 * stored traceparent), so a span needs no context manager; the wire format is the official one,
 * checked against the official transformer in test/shared/observability/otlp-json.test.ts.
 */

import { newSpanId, parseTraceparent } from './trace-context';

/** OTLP `Span.SpanKind` numbers (the JSON encoding carries the number). */
export const SpanKind = { INTERNAL: 1, SERVER: 2, CLIENT: 3, PRODUCER: 4, CONSUMER: 5 } as const;
export type SpanKind = (typeof SpanKind)[keyof typeof SpanKind];

/** OTLP `Status.StatusCode`: unset, ok, error. */
export const SpanStatus = { UNSET: 0, OK: 1, ERROR: 2 } as const;
export type SpanStatus = (typeof SpanStatus)[keyof typeof SpanStatus];

export type AttributeValue = string | number | boolean;
export type Attributes = Record<string, AttributeValue | undefined>;

/** What a span needs of its parent: the W3C ids (a TraceContext fits). */
export interface SpanParent {
  traceId: string;
  spanId: string;
  flags: string;
}

/** A finished span, as the exporter encodes it. */
export interface SpanRecord {
  traceId: string;
  spanId: string;
  parentSpanId: string | null;
  /** W3C trace flags, two hex digits (`01`: sampled). */
  flags: string;
  name: string;
  kind: SpanKind;
  /** Epoch milliseconds. */
  startMs: number;
  endMs: number;
  status: SpanStatus;
  attributes: Attributes | undefined;
  /** A span this one follows from without being its child (a delivery → the publishing span). */
  links: readonly SpanParent[] | undefined;
}

/** Where finished spans go. */
export interface SpanSink {
  span(record: SpanRecord): void;
}

/**
 * One span. `end()` records it (once); until then it can take attributes. A span made without a
 * sink (`recording` false) has its parent's span id as its own, so headers built from it carry
 * exactly what they carried before tracing existed.
 */
export class Span implements SpanParent {
  attributes: Attributes | undefined;
  status: SpanStatus = SpanStatus.UNSET;
  links: SpanParent[] | undefined;
  private ended = false;

  constructor(
    private readonly sink: SpanSink | null,
    readonly traceId: string,
    readonly spanId: string,
    readonly parentSpanId: string | null,
    readonly flags: string,
    public name: string,
    readonly kind: SpanKind,
    readonly startMs: number,
    attributes?: Attributes,
  ) {
    this.attributes = attributes;
  }

  get recording(): boolean {
    return this.sink !== null;
  }

  setAttribute(key: string, value: AttributeValue | undefined): this {
    if (this.sink) (this.attributes ??= {})[key] = value;
    return this;
  }

  addLink(link: SpanParent): this {
    if (this.sink) (this.links ??= []).push(link);
    return this;
  }

  /** The `traceparent` of a call made inside this span. */
  traceparent(): string {
    return `00-${this.traceId}-${this.spanId}-${this.flags}`;
  }

  end(status: SpanStatus = this.status, endMs: number = Date.now()): void {
    if (this.ended || !this.sink) return;
    this.ended = true;
    this.sink.span({
      traceId: this.traceId,
      spanId: this.spanId,
      parentSpanId: this.parentSpanId,
      flags: this.flags,
      name: this.name,
      kind: this.kind,
      startMs: this.startMs,
      // A clock read after I/O never goes back, but a caller's own end time might: never before the start.
      endMs: Math.max(endMs, this.startMs),
      status,
      attributes: this.attributes,
      links: this.links,
    });
  }
}

/**
 * Makes spans for one service. Disabled (no sink) it makes pass-through spans: the caller's code
 * is the same either way, and recording nothing costs one small object per would-be span.
 */
export class Tracer {
  constructor(private readonly sink: SpanSink | null) {}

  get enabled(): boolean {
    return this.sink !== null;
  }

  /** A child of `parent` (a TraceContext, another span), started now or at `startMs`. */
  start(name: string, kind: SpanKind, parent: SpanParent, attributes?: Attributes, startMs: number = Date.now()): Span {
    if (!this.sink) return new Span(null, parent.traceId, parent.spanId, null, parent.flags, name, kind, startMs);
    return new Span(this.sink, parent.traceId, newSpanId(), parent.spanId, parent.flags, name, kind, startMs, attributes);
  }

  /**
   * The span whose ids already exist: a request's own (request-context.ts made its span id when
   * it continued the caller's trace, and logs carry it from the first line).
   */
  adopt(ids: { traceId: string; spanId: string; parentSpanId: string | null; flags: string }, name: string, kind: SpanKind, startMs: number, attributes?: Attributes): Span {
    return new Span(this.sink, ids.traceId, ids.spanId, ids.parentSpanId, ids.flags, name, kind, startMs, attributes);
  }

  /** `work` inside a child span of `parent`: ended with its outcome (error when it throws). */
  async trace<T>(name: string, kind: SpanKind, parent: SpanParent, work: (span: Span) => Promise<T>, attributes?: Attributes): Promise<T> {
    const span = this.start(name, kind, parent, attributes);
    try {
      const result = await work(span);
      span.end();
      return result;
    } catch (error) {
      span.setAttribute('exception.message', error instanceof Error ? error.message : String(error));
      span.end(SpanStatus.ERROR);
      throw error;
    }
  }
}

/** The tracer of a worker with no exporter configured. */
export const DISABLED_TRACER = new Tracer(null);

/** The parent a `traceparent` names, or null when it is missing or invalid. */
export function parentOf(traceparent: string | null | undefined): SpanParent | null {
  const parsed = parseTraceparent(traceparent);
  return parsed && { traceId: parsed.traceId, spanId: parsed.parentSpanId, flags: parsed.flags };
}
