import { z } from 'zod';
import { outgoingTraceparent, parseTraceparent, type TraceContext } from '../observability/trace-context';

/**
 * The envelope every stratus event travels in: CloudEvents 1.0, structured JSON mode
 * (`application/cloudevents+json`), so the attributes and the data are one JSON document and a
 * consumer needs nothing from the transport's headers to understand it. `source` is
 * `stratus/<service>`, `subject` the entity the event is about (an order id, a payment id).
 *
 * `traceparent` is the CloudEvents distributed-tracing extension: the W3C trace of the request
 * that caused the event, so a consumer's log lines join the producer's trace across QStash.
 */
export interface CloudEvent<T = unknown> {
  specversion: '1.0';
  /** Unique per event (a UUID); the outbox row id and the QStash deduplication id. */
  id: string;
  source: string;
  type: string;
  subject?: string;
  /** RFC 3339 time the event happened. */
  time: string;
  datacontenttype: 'application/json';
  data: T;
  traceparent?: string;
}

export interface CloudEventInit<T> {
  type: string;
  source: string;
  subject?: string;
  data: T;
  /** The causing request's trace: a `traceparent` header value or the request's TraceContext. */
  traceparent?: string | TraceContext | null;
  /** Default `crypto.randomUUID()`. */
  id?: string;
  /** Default now. */
  time?: string | Date;
}

export const CLOUD_EVENT_CONTENT_TYPE = 'application/cloudevents+json';

function traceparentOf(trace: CloudEventInit<unknown>['traceparent']): string | undefined {
  if (!trace) return undefined;
  const header = typeof trace === 'string' ? trace : outgoingTraceparent(trace);
  // An invalid traceparent is dropped, as Trace Context says a receiver must ignore it anyway.
  return parseTraceparent(header) ? header.trim() : undefined;
}

/** A new event; attributes in the order the spec lists them, optional ones only when set. */
export function cloudEvent<T>(init: CloudEventInit<T>): CloudEvent<T> {
  const time = init.time === undefined ? new Date() : init.time;
  const event: CloudEvent<T> = {
    specversion: '1.0',
    id: init.id ?? crypto.randomUUID(),
    source: init.source,
    type: init.type,
    time: typeof time === 'string' ? time : time.toISOString(),
    datacontenttype: 'application/json',
    data: init.data,
  };
  if (init.subject !== undefined) event.subject = init.subject;
  const traceparent = traceparentOf(init.traceparent);
  if (traceparent) event.traceparent = traceparent;
  return event;
}

const nonEmpty = z.string().min(1);

/**
 * What a consumer accepts: the required attributes (specversion 1.0, id, source, type), the
 * optional ones stratus uses typed, and any other extension attribute let through (the spec says
 * a consumer must tolerate extensions it does not know). `data` is checked by each consumer for
 * the types it handles (`cloudEventSchemaOf`).
 */
export const cloudEventSchema = z.looseObject({
  specversion: z.literal('1.0'),
  id: nonEmpty,
  source: nonEmpty,
  type: nonEmpty,
  subject: nonEmpty.optional(),
  time: z.iso.datetime({ offset: true }).optional(),
  datacontenttype: nonEmpty.optional(),
  data: z.unknown().optional(),
  traceparent: z.string().optional(),
});

export type ParsedCloudEvent = z.infer<typeof cloudEventSchema>;

/** The envelope with a typed `data`, for a consumer that knows the event type's shape. */
export const cloudEventSchemaOf = <Data extends z.ZodType>(data: Data) => cloudEventSchema.extend({ data });

export type CloudEventParse = { ok: true; event: CloudEvent } | { ok: false; issues: { path: string; message: string }[] };

/** Parses a delivered body: JSON first, then the envelope; never throws. */
export function parseCloudEvent(body: string): CloudEventParse {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    return { ok: false, issues: [{ path: '(root)', message: 'The body is not JSON.' }] };
  }
  const result = cloudEventSchema.safeParse(json);
  if (!result.success) {
    return {
      ok: false,
      issues: result.error.issues.map((issue) => ({ path: issue.path.map(String).join('.') || '(root)', message: issue.message })),
    };
  }
  // A valid event from another producer may omit time / datacontenttype; the type says they are
  // there for events stratus makes, which is what every consumer here receives.
  return { ok: true, event: result.data as CloudEvent };
}
