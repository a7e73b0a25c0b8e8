import { outboxDestinationSchema, type BatchMessage, type BatchOutcome, type EventPublisher, type OutboxRecord, type OutboxStore } from './outbox-message';

export type { BatchMessage, BatchOutcome, EventPublisher, OutboxDestination, OutboxRecord, OutboxStore, OutboxSummary, PublishOptions } from './outbox-message';

/** Milliseconds to wait before the next attempt, after `attempts` failed ones (1, 2, ...). */
export type OutboxBackoff = (attempts: number) => number;

export interface ExponentialBackoffOptions {
  /** Wait after the first failure; default 1 s. */
  baseMs?: number;
  /** Longest wait; default 5 minutes. A row is retried at this pace for as long as it fails. */
  maxMs?: number;
  /** Default 2. */
  factor?: number;
  /** When given, "full jitter" (a uniform wait in [0, delay]); omitted: deterministic. */
  random?: () => number;
}

export const exponentialBackoff = (options: ExponentialBackoffOptions = {}): OutboxBackoff => {
  const { baseMs = 1_000, maxMs = 300_000, factor = 2, random } = options;
  return (attempts) => {
    const delay = Math.min(maxMs, baseMs * factor ** Math.max(0, attempts - 1));
    return random ? Math.floor(delay * random()) : delay;
  };
};

export interface DispatchOptions {
  /** Clock (epoch ms); read as the run goes, so each row's backoff starts at its own failure. */
  now?: () => number;
  /** Most rows claimed (and published) by one run; default 50. */
  limit?: number;
  backoff?: OutboxBackoff;
  /** Who is claiming; default a fresh UUID per run. */
  claimer?: string;
  /** Longest wait for one publish request; default 10 s. Its rows are then retried (the broker dedupes). */
  publishTimeoutMs?: number;
  /**
   * Most rows sent in one publish request when the publisher can batch (`publishBatch`); default
   * 25. One request and one D1 write per batch instead of per row: a backlog drains at the
   * broker's batch rate, not at one round trip per event. 1 publishes row by row.
   */
  batchSize?: number;
  /**
   * How long a claim holds; default 60 s. A run stops publishing before its claim could lapse
   * (it needs publishTimeoutMs plus a 5 s margin left), so no other dispatcher can claim a row
   * this run may still publish; rows it did not reach stay claimed until the lease ends, then are
   * due again. A run that dies likewise leaves its rows to be retried when the lease ends.
   */
  leaseMs?: number;
  /**
   * Failed attempts after which a row is parked as dead (kept, counted, retried only when an
   * operator asks); default unbounded. A destination the broker refuses for good (a deleted
   * topic, a bad URL) would otherwise be retried every few minutes forever, silently.
   */
  maxAttempts?: number;
}

export interface DispatchResult {
  sent: number;
  failed: number;
  /** Rows this run parked as dead. */
  parked: number;
  /** Rows still unsent after this run (failed ones, ones not yet due, ones beyond `limit`). */
  pending: number;
  /** When the next pending row may be dispatched (epoch ms); absent when nothing is pending. */
  nextAttemptAt?: number;
}

const MAX_ERROR_LENGTH = 1_000;
/** Time kept in hand at the end of a claim for recording the last outcome. */
const LEASE_MARGIN_MS = 5_000;

const describe = (error: unknown): string => {
  const text = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  return text.length > MAX_ERROR_LENGTH ? `${text.slice(0, MAX_ERROR_LENGTH - 1)}…` : text;
};

class PublishTimeout extends Error {
  constructor(ms: number) {
    super(`publish did not answer within ${ms} ms`);
    this.name = 'PublishTimeout';
  }
}

/** `work`, or a PublishTimeout after `ms`; the timer is always cleared, so nothing lingers. */
async function withDeadline<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new PublishTimeout(ms)), ms);
  });
  try {
    return await Promise.race([work, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

/** A claimed row ready to publish, or the reason it cannot be (an unreadable destination). */
type Prepared = { record: OutboxRecord; message: BatchMessage } | { record: OutboxRecord; error: string };

function prepare(record: OutboxRecord): Prepared {
  let parsed: unknown;
  try {
    parsed = JSON.parse(record.destination);
  } catch {
    parsed = undefined;
  }
  const destination = outboxDestinationSchema.safeParse(parsed);
  if (!destination.success) return { record, error: `Error: unreadable destination: ${record.destination}` };
  // The event id is the deduplication id: the same row published twice is one message.
  return { record, message: { destination: destination.data, body: record.body, deduplicationId: record.id } };
}

/**
 * Publishes `messages` in one request when the publisher batches, else one by one; one outcome
 * per message, in order. A batch request that fails as a whole fails every message in it.
 */
async function publishAll(messages: BatchMessage[], publisher: EventPublisher, timeoutMs: number): Promise<BatchOutcome[]> {
  if (publisher.publishBatch && messages.length > 1) {
    try {
      const outcomes = await withDeadline(publisher.publishBatch(messages), timeoutMs);
      if (outcomes.length !== messages.length) throw new Error(`the broker answered ${outcomes.length} outcomes for ${messages.length} messages`);
      return outcomes;
    } catch (error) {
      return messages.map(() => ({ error: describe(error) }));
    }
  }
  const outcomes: BatchOutcome[] = [];
  for (const { destination, body, deduplicationId } of messages) {
    try {
      outcomes.push({ messageIds: await withDeadline(publisher.publish(destination, body, { deduplicationId }), timeoutMs) });
    } catch (error) {
      outcomes.push({ error: describe(error) });
    }
  }
  return outcomes;
}

/**
 * One dispatch run of the transactional outbox: claim the due rows, publish each, and record the
 * outcome on the row. A failure never loses an event: the row stays unsent with `attempts + 1`,
 * the error and a later next attempt (exponential, capped), and nothing is ever deleted. A crash
 * between a publish and its `markSent` re-publishes the row later under the same deduplication
 * id, which the broker drops, so consumers see it once (and their inbox catches anything else).
 *
 * Rows leave oldest first: in batches of `batchSize` (one broker request each, the broker
 * keeping the batch's order) when the publisher batches, else one after another; a service's
 * events leave in the order they were written as far as the broker keeps order.
 */
export async function dispatchOutbox(store: OutboxStore, publisher: EventPublisher, options: DispatchOptions = {}): Promise<DispatchResult> {
  const now = options.now ?? Date.now;
  const limit = options.limit ?? 50;
  const backoff = options.backoff ?? exponentialBackoff();
  const claimer = options.claimer ?? crypto.randomUUID();
  const publishTimeoutMs = options.publishTimeoutMs ?? 10_000;
  const leaseMs = options.leaseMs ?? 60_000;
  if (!(leaseMs > publishTimeoutMs + LEASE_MARGIN_MS)) {
    throw new RangeError(`leaseMs (${leaseMs}) must exceed publishTimeoutMs (${publishTimeoutMs}) + ${LEASE_MARGIN_MS} ms`);
  }

  const started = now();
  const leaseUntil = started + leaseMs;
  const records = await store.claim({ now: started, limit, claimer, leaseUntil });
  const maxAttempts = options.maxAttempts ?? Number.POSITIVE_INFINITY;
  const batchSize = publisher.publishBatch ? Math.max(1, options.batchSize ?? 25) : 1;
  let sent = 0;
  let failed = 0;
  let parked = 0;
  const fail = async (record: OutboxRecord, lastError: string) => {
    const attempts = record.attempts + 1;
    const failedAt = now();
    const park = attempts >= maxAttempts;
    await store.markFailed(record.id, { claimer, attempts, lastError, nextAttemptAt: failedAt + backoff(attempts), ...(park ? { deadAt: failedAt } : {}) });
    failed += 1;
    if (park) parked += 1;
  };
  for (let next = 0; next < records.length; ) {
    // Past this point the claim could lapse mid-publish and another dispatcher take the rows.
    if (now() + publishTimeoutMs + LEASE_MARGIN_MS > leaseUntil) break;
    const chunk = records.slice(next, next + batchSize).map(prepare);
    next += chunk.length;
    const ready = chunk.filter((row): row is Extract<Prepared, { message: BatchMessage }> => 'message' in row);
    const outcomes = await publishAll(
      ready.map((row) => row.message),
      publisher,
      publishTimeoutMs,
    );
    const published: { id: string; messageIds: string[] }[] = [];
    for (const [index, row] of ready.entries()) {
      const outcome = outcomes[index]!;
      if ('messageIds' in outcome) published.push({ id: row.record.id, messageIds: outcome.messageIds });
      else await fail(row.record, outcome.error);
    }
    for (const row of chunk) if ('error' in row) await fail(row.record, row.error);
    // If this write fails the run ends with its error; the rows, published but not marked, are
    // published again when the claim lapses, under the same deduplication ids (dropped).
    if (published.length > 0) await store.markSent(published, { claimer, sentAt: now() });
    sent += published.length;
  }

  const summary = await store.summary();
  const result: DispatchResult = { sent, failed, parked, pending: summary.pending };
  if (summary.nextAttemptAt !== null) result.nextAttemptAt = summary.nextAttemptAt;
  return result;
}
