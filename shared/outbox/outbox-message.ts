import { z } from 'zod';

/**
 * Where an outbox row goes (stored as JSON in the row):
 * - `topic`: a QStash topic (URL group) fanned out to every consumer endpoint it lists
 *   (shared/events/topology.json);
 * - `queue`: a QStash queue (ordered, with its own parallelism) delivering to `url`;
 * - `url`: one endpoint, directly.
 */
export type OutboxDestination = { kind: 'topic'; topic: string } | { kind: 'queue'; queue: string; url: string } | { kind: 'url'; url: string };

export const outboxDestinationSchema: z.ZodType<OutboxDestination> = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('topic'), topic: z.string().min(1) }),
  z.object({ kind: z.literal('queue'), queue: z.string().min(1), url: z.url() }),
  z.object({ kind: z.literal('url'), url: z.url() }),
]);

export interface PublishOptions {
  /**
   * The broker keeps one message per deduplication id (QStash: 90 days), so publishing a row
   * again after a crash between "published" and "marked sent" delivers nothing twice. The outbox
   * always passes the event id.
   */
  deduplicationId: string;
}

/** One message of a batch publish. */
export interface BatchMessage extends PublishOptions {
  destination: OutboxDestination;
  body: string;
}

/** What the broker said about one message of a batch: its message ids, or why it refused that one. */
export type BatchOutcome = { messageIds: string[] } | { error: string };

/** The broker, as the outbox dispatcher sees it. */
export interface EventPublisher {
  /** Publishes `body` as is (a CloudEvent's JSON); resolves with the broker's message ids (one per topic endpoint). */
  publish(destination: OutboxDestination, body: string, opts: PublishOptions): Promise<string[]>;
  /**
   * Publishes several messages in one request to the broker (QStash's `POST /v2/batch`), in the
   * order given, answering one outcome per message in that order. Optional: a dispatcher without
   * it publishes one message per request. It throws only when the request as a whole failed, so
   * nothing of it may be assumed published.
   */
  publishBatch?(messages: BatchMessage[]): Promise<BatchOutcome[]>;
}

/** One unsent outbox row, as a dispatcher claimed it. Times are epoch milliseconds. */
export interface OutboxRecord {
  /** The CloudEvent's id. */
  id: string;
  /** The destination's JSON as stored (parsed by the dispatcher, so a bad row is reported, not thrown). */
  destination: string;
  type: string;
  /** The CloudEvent's JSON, published byte for byte (consumers verify a hash of exactly these bytes). */
  body: string;
  attempts: number;
  createdAt: number;
  nextAttemptAt: number;
}

export interface OutboxSummary {
  /** Unsent rows still tried (parked ones not included). */
  pending: number;
  sent: number;
  /** Unsent rows parked after their last allowed attempt, waiting for an operator. */
  dead: number;
  /** When the oldest unsent row was written; null when none is pending. */
  oldestPendingAt: number | null;
  /**
   * The earliest time a pending row may be dispatched (its next attempt, or the end of another
   * dispatcher's claim on it); null when none is pending.
   */
  nextAttemptAt: number | null;
}

/**
 * The outbox table, as the dispatcher needs it. Claiming is how two dispatchers (two relays on
 * one database, e.g. the catalog and its canary, or a relay and its own restarted self) never
 * publish the same row at the same time: `claim` must mark the rows it returns as held by
 * `claimer` until `leaseUntil`, atomically, and must skip rows another claimer holds.
 */
export interface OutboxStore {
  /** Up to `limit` unsent rows due at `now` and not held by another claim, oldest first, now held by `claimer`. */
  claim(request: { now: number; limit: number; claimer: string; leaseUntil: number }): Promise<OutboxRecord[]>;
  /**
   * Records published rows (one write for all of them) and releases their claims. Idempotent: a
   * row already sent stays as it was.
   */
  markSent(rows: { id: string; messageIds: string[] }[], sent: { claimer: string; sentAt: number }): Promise<void>;
  /**
   * Records a failed attempt and releases the claim, only while `claimer` still holds it. Never
   * deletes. With `deadAt`, the row is parked: never claimed again until an operator retries it.
   */
  markFailed(id: string, failure: { claimer: string; attempts: number; lastError: string; nextAttemptAt: number; deadAt?: number }): Promise<void>;
  summary(): Promise<OutboxSummary>;
}
