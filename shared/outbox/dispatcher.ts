import { outboxDestinationSchema, type EventPublisher, type OutboxRecord, type OutboxStore } from './outbox-message';

export type { EventPublisher, OutboxDestination, OutboxRecord, OutboxStore, OutboxSummary, PublishOptions } from './outbox-message';

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
  /** Longest wait for one publish; default 10 s. The row is then retried (the broker dedupes). */
  publishTimeoutMs?: number;
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

async function publishRecord(record: OutboxRecord, publisher: EventPublisher, timeoutMs: number): Promise<string[]> {
  const destination = outboxDestinationSchema.safeParse(JSON.parse(record.destination) as unknown);
  if (!destination.success) throw new Error(`unreadable destination: ${record.destination}`);
  // The event id is the deduplication id: the same row published twice is one message.
  return withDeadline(publisher.publish(destination.data, record.body, { deduplicationId: record.id }), timeoutMs);
}

/**
 * One dispatch run of the transactional outbox: claim the due rows, publish each, and record the
 * outcome on the row. A failure never loses an event: the row stays unsent with `attempts + 1`,
 * the error and a later next attempt (exponential, capped), and nothing is ever deleted. A crash
 * between a publish and its `markSent` re-publishes the row later under the same deduplication
 * id, which the broker drops, so consumers see it once (and their inbox catches anything else).
 *
 * Rows are published one after another, oldest first: a service's events leave in the order
 * they were written as far as the broker keeps order.
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
  let sent = 0;
  let failed = 0;
  let parked = 0;
  for (const record of records) {
    // Past this point the claim could lapse mid-publish and another dispatcher take the row.
    if (now() + publishTimeoutMs + LEASE_MARGIN_MS > leaseUntil) break;
    let messageIds: string[];
    try {
      messageIds = await publishRecord(record, publisher, publishTimeoutMs);
    } catch (error) {
      const attempts = record.attempts + 1;
      const failedAt = now();
      const park = attempts >= maxAttempts;
      await store.markFailed(record.id, {
        claimer,
        attempts,
        lastError: describe(error),
        nextAttemptAt: failedAt + backoff(attempts),
        ...(park ? { deadAt: failedAt } : {}),
      });
      failed += 1;
      if (park) parked += 1;
      continue;
    }
    // If this write fails the run ends with its error; the row, published but not marked, is
    // published again when the claim lapses, under the same deduplication id (dropped).
    await store.markSent(record.id, { claimer, sentAt: now(), messageIds });
    sent += 1;
  }

  const summary = await store.summary();
  const result: DispatchResult = { sent, failed, parked, pending: summary.pending };
  if (summary.nextAttemptAt !== null) result.nextAttemptAt = summary.nextAttemptAt;
  return result;
}
