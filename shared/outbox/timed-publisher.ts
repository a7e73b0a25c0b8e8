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
  return {
    async publish(destination, body, options) {
      const started = now();
      const report = (outcome: CallOutcome) => {
        try {
          onPublish({ from: publisherOf(body), to: 'qstash', outcome, durationMs: now() - started });
        } catch {
          // Bookkeeping never turns a publish into a failure.
        }
      };
      try {
        const ids = await publisher.publish(destination, body, options);
        report('ok');
        return ids;
      } catch (error) {
        report(outcomeOfError(error));
        throw error;
      }
    },
  };
}
