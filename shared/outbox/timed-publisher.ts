import { outcomeOfError, type CallOutcome } from '../metrics/red-metrics';
import type { EventPublisher } from './outbox-message';

/** One publish, as `service_call_duration_seconds{from, to="qstash", outcome}` records it. */
export interface TimedPublish {
  /** The publishing service, from the event's `source` (`stratus/orders` → `orders`). */
  from: string;
  to: 'qstash';
  outcome: CallOutcome;
  durationMs: number;
}

/** The service a CloudEvent names as its source: `stratus/<service>`; `unknown` otherwise. */
function publisherOf(body: string): string {
  try {
    const source = (JSON.parse(body) as { source?: unknown }).source;
    const match = typeof source === 'string' ? /^stratus\/([a-z][a-z0-9-]{0,40})$/.exec(source) : null;
    return match?.[1] ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

/**
 * Times every publish of `publisher` and tells `onPublish` how it went, without changing what the
 * dispatcher sees (an error is rethrown as it came). The caller label comes from the event itself,
 * so one relay class serves every service without being told whose it is.
 */
export function timedPublisher(publisher: EventPublisher, onPublish: (publish: TimedPublish) => void, now: () => number = Date.now): EventPublisher {
  /** `call` timed as one broker call, labelled with the service that published `body`. */
  async function timed<T>(body: string, call: () => Promise<T>): Promise<T> {
    const started = now();
    const report = (outcome: CallOutcome) => {
      try {
        onPublish({ from: publisherOf(body), to: 'qstash', outcome, durationMs: now() - started });
      } catch {
        // Bookkeeping never turns a publish into a failure.
      }
    };
    try {
      const result = await call();
      report('ok');
      return result;
    } catch (error) {
      report(outcomeOfError(error));
      throw error;
    }
  }
  const batch = publisher.publishBatch?.bind(publisher);
  return {
    publish: (destination, body, options) => timed(body, () => publisher.publish(destination, body, options)),
    // One batch is one call to QStash: timed once (a relay's rows are all its own service's).
    ...(batch ? { publishBatch: (messages) => timed(messages[0]?.body ?? '', () => batch(messages)) } : {}),
  };
}
