import type { BatchItem } from 'drizzle-orm/batch';
import { drizzle, type DrizzleD1Database } from 'drizzle-orm/d1';
import type { Context } from 'hono';
import { inboxInsert, isInboxDuplicate } from '../adapters/cloudflare/inbox-table';
import { qstashReceiver, type QStashSigningKeys, type SignatureVerifier } from '../adapters/upstash/qstash-receiver';
import type { CloudEvent } from '../events/cloud-event';
import { parseCloudEvent } from '../events/cloud-event';
import topology from '../events/topology.json' with { type: 'json' };
import { badRequest, HttpError } from '../http/problem';
import type { Logger } from '../observability/logger';
import { parentOf, SpanKind, type SpanParent } from '../observability/span';
import { tracedD1 } from '../adapters/cloudflare/traced-d1';
import type { AppEnv } from './app-env';

/** A consumer named in shared/events/topology.json; its hook path is `consumers[name]`. */
export type ConsumerName = keyof typeof topology.consumers;

/** What a consumer's worker binds for deliveries. */
export interface DeliveryBindings {
  DB: D1Database;
  /** The gateway's public base URL; QStash signs each delivery for `${HOOKS_BASE_URL}${consumers[name]}`. */
  HOOKS_BASE_URL?: string;
  QSTASH_CURRENT_SIGNING_KEY?: string;
  QSTASH_NEXT_SIGNING_KEY?: string;
}

/** The drizzle database a consumer writes with (its D1's, with or without a schema). */
export type DeliveryDb = DrizzleD1Database<any>;

/** One delivery, as a consumer's `handle` sees it. */
export interface Delivery<Db extends DeliveryDb = DrizzleD1Database> {
  /** `Upstash-Message-Id`: the same on every retry of one message. */
  messageId: string;
  /** `Upstash-Retried`: 0 on the first delivery. */
  retried: number;
  /** `Upstash-Topic-Name` for a topic's fan-out, else null. */
  topicName: string | null;
  /** Build the effects' statements with this; they commit in one batch after the inbox row. */
  db: Db;
  /** The request's logger, with the delivery's ids on every line. */
  log: Logger;
}

/** What a consumer does with an event: statements committed together with its inbox row. */
export interface DeliveryEffects {
  /** The consumer's writes, NOT executed (drizzle queries); may be empty (an ignored event type). */
  statements: BatchItem<'sqlite'>[];
  /** Work after the commit (e.g. kick the outbox); its failure is logged, the delivery stays done. */
  afterCommit?: () => void | Promise<void>;
  /** Headers for the 200 (e.g. the catalog's `x-cache-purge-tags` for the gateway), a duplicate's too. */
  headers?: Record<string, string>;
}

export interface DeliveryHandlerOptions<Bindings extends DeliveryBindings, Db extends DeliveryDb> {
  consumer: ConsumerName;
  /**
   * Acts on one event by returning statements; it runs before the inbox can tell a duplicate, so
   * it must not change anything itself (reads are fine): effects belong in `statements` or, once
   * committed, in `afterCommit`. Throw an HttpError to answer it (a 4xx still makes QStash retry,
   * then dead-letter: right for an event the consumer can never accept); anything else is a 500.
   */
  handle(event: CloudEvent, delivery: Delivery<Db>, c: Context<AppEnv<Bindings>>): DeliveryEffects | Promise<DeliveryEffects>;
  /** The consumer's database; default `drizzle(c.env.DB)`. */
  db?: (c: Context<AppEnv<Bindings>>) => Db;
  /** How signatures are checked; default the official Receiver (tests may pass their own). */
  verifier?: (keys: QStashSigningKeys) => SignatureVerifier;
  /** Clock for the inbox's received_at (epoch ms). */
  now?: () => number;
}

/** `ignored`: the consumer acts on nothing for this event, so nothing was written, not even an inbox row. */
export type DeliveryStatus = 'processed' | 'duplicate' | 'ignored';

/** One Receiver per key pair per isolate: keys come from env, known per request. */
const verifiers = new Map<string, SignatureVerifier>();

const defaultVerifier = (keys: QStashSigningKeys): SignatureVerifier => {
  const cacheKey = `${keys.currentSigningKey}\n${keys.nextSigningKey}`;
  let verifier = verifiers.get(cacheKey);
  if (!verifier) {
    verifier = qstashReceiver(keys);
    verifiers.set(cacheKey, verifier);
  }
  return verifier;
};

const unsigned = (detail: string) => new HttpError(401, { type: 'invalid-signature', detail });

const retriedOf = (header: string | undefined) => {
  const retried = Number(header ?? 0);
  return Number.isInteger(retried) && retried >= 0 ? retried : 0;
};

/**
 * The idempotent consumer (docs/architecture.md, decision 4), as a Hono handler for a QStash hook route:
 *
 * 1. verify `Upstash-Signature` over the raw body (the gateway forwards it untouched) for exactly
 *    `${HOOKS_BASE_URL}${consumers[consumer]}`, with the current or next signing key: 401 when
 *    unsigned, tampered, for another URL, or when the keys or base URL are not configured (fail
 *    closed: an unconfigured consumer must not act on anything);
 * 2. parse the CloudEvent: 400 when malformed;
 * 3. `handle` it, then commit `[inbox row, ...effects]` in ONE D1 batch. The inbox INSERT comes
 *    first and is plain: a redelivered message or a republished event violates its UNIQUE keys,
 *    the batch rolls back whole, and the answer is 200 `{status: 'duplicate'}` with nothing
 *    applied. Otherwise 200 `{status: 'processed'}`, only after the commit;
 * 4. any other failure propagates (a 500 from the app's onError), so QStash retries the message.
 */
export function deliveryHandler<Bindings extends DeliveryBindings, Db extends DeliveryDb = DrizzleD1Database>(
  options: DeliveryHandlerOptions<Bindings, Db>,
): (c: Context<AppEnv<Bindings>>) => Promise<Response> {
  const { consumer, handle } = options;
  const path = topology.consumers[consumer];
  if (!path) throw new Error(`deliveryHandler: no consumer ${consumer} in shared/events/topology.json`);
  // The default database's batches are spans of the delivery's span (traced-d1.ts).
  const database = (c: Context<AppEnv<Bindings>>, span: SpanParent): Db =>
    options.db ? options.db(c) : (drizzle(tracedD1(c.env.DB, c.get('telemetry').tracer, span)) as unknown as Db);
  const verifierFor = options.verifier ?? defaultVerifier;
  const now = options.now ?? Date.now;

  return async function deliveryHandler(c) {
    const log = c.get('log').child({ consumer });
    const { HOOKS_BASE_URL: base, QSTASH_CURRENT_SIGNING_KEY: currentSigningKey, QSTASH_NEXT_SIGNING_KEY: nextSigningKey } = c.env;
    if (!base || !currentSigningKey || !nextSigningKey) {
      log.error('HOOKS_BASE_URL, QSTASH_CURRENT_SIGNING_KEY or QSTASH_NEXT_SIGNING_KEY is missing: refusing every delivery');
      throw unsigned('This endpoint accepts signed QStash deliveries only.');
    }

    const body = await c.req.text();
    const url = `${base.replace(/\/+$/, '')}${path}`;
    const check = await verifierFor({ currentSigningKey, nextSigningKey }).verify({ signature: c.req.header('upstash-signature'), body, url });
    if (!check.valid) {
      log.warn('delivery signature refused', { reason: check.reason, url });
      throw unsigned('The delivery is not signed by QStash for this endpoint.');
    }

    const messageId = c.req.header('upstash-message-id');
    if (!messageId) throw badRequest('A delivery needs an Upstash-Message-Id header.');
    const parsed = parseCloudEvent(body);
    if (!parsed.ok) throw badRequest('The delivery is not a CloudEvent.', parsed.issues);
    const event = parsed.event;

    // The delivery's span: a consumer of the event, child of this request (QStash → gateway →
    // here, which continued the publisher's trace from the forwarded traceparent) and linked to
    // the publishing span the event's own traceparent names.
    const topicName = c.req.header('upstash-topic-name') ?? null;
    const publishedBy = parentOf(event.traceparent);
    return c.get('telemetry').tracer.trace(
      `deliver ${event.type}`,
      SpanKind.CONSUMER,
      c.get('trace'),
      async (span) => {
        if (publishedBy) span.addLink(publishedBy);
        const response = await consume(c, event, messageId, topicName, log, span);
        span.setAttribute('http.response.status_code', response.status);
        return response;
      },
      { 'messaging.system': 'qstash', 'messaging.destination.name': topicName ?? consumer, 'messaging.consumer.group.name': consumer, 'messaging.message.id': messageId, 'cloudevents.event_id': event.id, 'cloudevents.event_type': event.type },
    );
  };

  async function consume(c: Context<AppEnv<Bindings>>, event: CloudEvent, messageId: string, topicName: string | null, log: Logger, span: SpanParent): Promise<Response> {
    const db = database(c, span);
    const delivery: Delivery<Db> = {
      messageId,
      retried: retriedOf(c.req.header('upstash-retried')),
      topicName,
      db,
      log: log.child({ messageId, eventId: event.id, eventType: event.type, eventTraceparent: event.traceparent }),
    };
    const effects = await handle(event, delivery, c);
    // Nothing to apply, nothing to dedupe: a repeat would be ignored again, so no inbox row is
    // written. A topic carries more types than a consumer acts on (ledger events reach
    // notifications, which sends nothing for them); one row each would grow the inbox forever
    // with rows that guard nothing.
    if (effects.statements.length === 0 && !effects.afterCommit) {
      return c.json({ status: 'ignored' satisfies DeliveryStatus, messageId, eventId: event.id }, 200, effects.headers ?? {});
    }
    const inboxRow = inboxInsert(db, { messageId, consumer, event, receivedAt: now() });
    try {
      await db.batch([inboxRow, ...effects.statements] as [BatchItem<'sqlite'>, ...BatchItem<'sqlite'>[]]);
    } catch (error) {
      if (!isInboxDuplicate(error)) throw error;
      delivery.log.info('duplicate delivery: nothing applied', { retried: delivery.retried });
      // The headers still go out: `handle` only describes the effects, and the first delivery's
      // answer may never have reached the gateway (a timeout), e.g. the catalog's purge tags.
      return c.json({ status: 'duplicate' satisfies DeliveryStatus, messageId, eventId: event.id }, 200, effects.headers ?? {});
    }

    if (effects.afterCommit) {
      try {
        await effects.afterCommit();
      } catch (error) {
        delivery.log.error('after-commit work failed; the delivery is done', { error });
      }
    }
    return c.json({ status: 'processed' satisfies DeliveryStatus, messageId, eventId: event.id }, 200, effects.headers ?? {});
  }
}
