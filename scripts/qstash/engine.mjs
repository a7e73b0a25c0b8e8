// The local QStash's state and clock: messages waiting, in flight and retrying, queues with their
// parallelism, URL groups, the DLQ, deduplication ids and the signing keys. In memory only: a
// restart forgets everything, which is what a dev server wants.
import { setTimeout as sleep } from 'node:timers/promises';
import { callbackBody, deliverOnce, responseFields } from './delivery.mjs';
import {
  checkDestinationUrl,
  checkName,
  deduplicationKey,
  forwardedHeaders,
  isDestinationUrl,
  matches,
  messageView,
  newMessageId,
  publishAnswer,
  publishOptions,
  QStashError,
} from './messages.mjs';
import { randomSigningKey } from './signing.mjs';
import { defaultBackoffMs } from './timing.mjs';
import { UrlGroups } from './url-groups.mjs';

export class QStashEngine {
  #options;
  #messages = new Map(); // every message not yet finished (waiting, in flight or between retries)
  #queues = new Map();
  /** URL groups (QStash's older name: topics), used as-is by the routes. */
  urlGroups = new UrlGroups();
  #dlq = new Map(); // dlqId -> { entry, message }, in arrival order
  #dedup = new Map(); // deduplication key -> the publish's answers
  #dlqSequence = 0;
  #attempting = 0;
  #idleWaiters = new Set();
  #closing = new AbortController();
  /** Origin a destination names -> origin its deliveries are sent to (see routeOrigin). */
  #originRoutes = new Map();
  #counters = { published: 0, delivered: 0, duplicated: 0, failedAttempts: 0, retried: 0, deadLettered: 0, callbacks: 0 };

  constructor(options) {
    this.#options = options;
    this.keys = { current: options.currentSigningKey, next: options.nextSigningKey };
  }

  // ---- publishing ---------------------------------------------------------------------------

  /**
   * POST /v2/publish/{destination} and /v2/enqueue/{queue}/{destination}: a URL gets one message,
   * a URL group one per endpoint. A deduplicated publish answers 202 with the first one's ids.
   */
  publish({ destination, queueName, headers, body, callerIp }) {
    const now = Date.now();
    const { maxRetries, retryDelayScale, delayScale, deliveryTimeoutMs } = this.#options;
    const options = publishOptions(headers, { now, defaults: { maxRetries, retryDelayScale, delayScale, deliveryTimeoutMs } });
    const group = !isDestinationUrl(destination);
    let targets;
    if (!group) {
      checkDestinationUrl(destination);
      targets = [{ url: destination }];
    } else {
      if (destination.startsWith('api/')) throw new QStashError(400, `the local QStash server does not call APIs (${destination}); publish to a URL or a URL group`);
      targets = this.urlGroups.endpointsOf(destination).map((endpoint) => ({ url: endpoint.url, topicName: destination, endpointName: endpoint.name }));
    }
    if (queueName !== undefined) checkName(queueName, 'queue');

    const forwarded = forwardedHeaders(headers);
    const key = deduplicationKey({ options, destination, queueName, body, forwarded });
    const seen = key && this.#dedup.get(key);
    if (seen) {
      const answers = seen.map((answer) => ({ ...answer, deduplicated: true }));
      return { status: 202, answer: group ? answers : answers[0] };
    }

    // Enqueueing to a queue that does not exist creates it (parallelism 1), as QStash does.
    const queue = queueName === undefined ? undefined : this.#queue(queueName) ?? this.#createQueue(queueName, 1, false);
    const messages = targets.map((target) => ({
      messageId: newMessageId(),
      ...target,
      queueName,
      method: options.method,
      headers: forwarded,
      body,
      maxRetries: options.maxRetries,
      retryDelayExpression: options.retryDelayExpression,
      retryDelay: options.retryDelay,
      timeoutMs: options.timeoutMs,
      callback: options.callback,
      failureCallback: options.failureCallback,
      label: options.label,
      notBefore: options.notBefore,
      createdAt: now,
      callerIp,
    }));
    const answers = messages.map((message) => publishAnswer(message));
    if (key) this.#dedup.set(key, answers);
    for (const message of messages) this.#admit(message, queue);
    return { status: 201, answer: group ? answers : answers[0] };
  }

  /** Puts a new message in play: into its queue, or straight on its way. */
  #admit(fields, queue) {
    const message = { ...fields, retried: 0, readyAt: fields.notBefore, cancelled: false, started: false, abort: new AbortController() };
    this.#messages.set(message.messageId, message);
    this.#counters.published++;
    if (queue) {
      queue.waiting.push(message);
      this.#pump(queue);
    } else {
      this.#start(message);
    }
    return message;
  }

  #start(message) {
    message.started = true;
    message.done = this.#run(message)
      .catch((error) => this.#log(`internal error delivering ${message.messageId}: ${error.stack ?? error}`))
      .finally(() => this.#finish(message));
    return message.done;
  }

  /** One message from now to delivered, dead-lettered or cancelled: attempts and the waits between. */
  async #run(message) {
    const { duplicateRate, random, retryDelayScale } = this.#options;
    for (;;) {
      if (!(await this.#waitUntil(message, message.readyAt))) return;
      const outcome = await this.#attempt(message);
      if (outcome.ok) {
        this.#counters.delivered++;
        this.#log(`delivered ${message.messageId} -> ${message.url} (${outcome.status}, retried ${message.retried})`);
        if (duplicateRate > 0 && random() < duplicateRate) {
          // At-least-once made visible: the same message (same id) once more.
          this.#counters.duplicated++;
          const again = await this.#attempt(message);
          this.#log(`delivered ${message.messageId} AGAIN (duplicateRate) -> ${message.url} (${again.status ?? again.error})`);
        }
        if (message.callback) await this.#followUp(message, message.callback, callbackBody(message, outcome));
        return;
      }
      this.#counters.failedAttempts++;
      if (message.cancelled || this.#closing.signal.aborted) return;
      const why = outcome.status !== undefined ? `status ${outcome.status}` : outcome.error;
      if (message.retried >= message.maxRetries) {
        const dlqId = this.#deadLetter(message, outcome);
        this.#log(`dead-lettered ${message.messageId} -> ${message.url} after ${message.retried} retries (${why}), dlqId ${dlqId}`);
        if (message.failureCallback) await this.#followUp(message, message.failureCallback, callbackBody(message, outcome, { dlqId }));
        return;
      }
      message.retried++;
      this.#counters.retried++;
      const backoff = message.retryDelay ? message.retryDelay(message.retried - 1) : defaultBackoffMs(message.retried);
      const delay = backoff * retryDelayScale;
      message.readyAt = Date.now() + delay;
      this.#log(`attempt of ${message.messageId} -> ${message.url} failed (${why}); retry ${message.retried}/${message.maxRetries} in ${Math.round(delay)} ms`);
    }
  }

  /** Sleeps until `at`; false if the message was cancelled or the server closed meanwhile. */
  async #waitUntil(message, at) {
    const wait = at - Date.now();
    if (wait > 0) {
      try {
        await sleep(wait, undefined, { signal: AbortSignal.any([message.abort.signal, this.#closing.signal]) });
      } catch {
        return false;
      }
    }
    return !message.cancelled && !this.#closing.signal.aborted;
  }

  /**
   * Deliveries to URLs on `from` (an origin, `http://host:port`) are sent to `to` instead, still
   * signed for the URL as published: a hosts-file entry for this server. A harness uses it when
   * the published URL must be known before the server behind it has bound a port (the local suite
   * binds port 0 and learns its port only once it listens).
   */
  routeOrigin(from, to) {
    this.#originRoutes.set(new URL(from).origin, new URL(to).origin);
  }

  #sentTo(url) {
    const parsed = new URL(url);
    const to = this.#originRoutes.get(parsed.origin);
    return to === undefined ? url : `${to}${parsed.pathname}${parsed.search}`;
  }

  async #attempt(message) {
    this.#attempting++;
    try {
      return await deliverOnce(message, { signingKey: this.keys.current, signal: this.#closing.signal, sendTo: this.#sentTo(message.url) });
    } finally {
      this.#attempting--;
    }
  }

  /**
   * A callback or failure callback is a message of its own (signed for its URL, retried like its
   * source). A queued message's slot waits for it, as QStash's queues do.
   */
  async #followUp(source, url, body) {
    this.#counters.callbacks++;
    const callback = this.#admit({
      messageId: newMessageId(),
      url,
      method: 'POST',
      headers: [['Content-Type', 'application/json']],
      body: Buffer.from(body),
      maxRetries: source.maxRetries,
      retryDelayExpression: source.retryDelayExpression,
      retryDelay: source.retryDelay,
      timeoutMs: source.timeoutMs,
      notBefore: Date.now(),
      createdAt: Date.now(),
      callerIp: source.callerIp,
    });
    if (source.queueName !== undefined) await callback.done;
  }

  #deadLetter(message, outcome) {
    const dlqId = `${Date.now()}-${this.#dlqSequence++}`;
    this.#dlq.set(dlqId, { entry: { ...messageView(message), dlqId, ...responseFields(outcome) }, message });
    this.#counters.deadLettered++;
    return dlqId;
  }

  #finish(message) {
    this.#messages.delete(message.messageId);
    if (this.#messages.size === 0) for (const waiter of this.#idleWaiters) waiter();
  }

  // ---- messages -----------------------------------------------------------------------------

  getMessage(messageId) {
    const message = this.#messages.get(messageId);
    if (!message) throw new QStashError(404, `message ${messageId} not found`);
    return messageView(message);
  }

  /** Cancels what has not been delivered yet; an attempt already under way still completes. */
  cancelMessage(messageId) {
    const message = this.#messages.get(messageId);
    if (!message) throw new QStashError(404, `message ${messageId} not found`);
    message.cancelled = true;
    message.abort.abort();
    if (!message.started) {
      const queue = this.#queue(message.queueName);
      if (queue) queue.waiting = queue.waiting.filter((waiting) => waiting !== message);
      this.#finish(message);
    }
    return { cancelled: 1 };
  }

  cancelMessages(filter) {
    const matching = [...this.#messages.values()].filter((message) => matches(messageView(message), filter));
    for (const message of matching) this.cancelMessage(message.messageId);
    return { cancelled: matching.length };
  }

  // ---- dead letter queue --------------------------------------------------------------------

  listDlq(filter, { cursor, count = 100 } = {}) {
    const all = [...this.#dlq.values()].map(({ entry }) => entry).filter((entry) => matches(entry, filter));
    const start = Number(cursor ?? 0) || 0;
    const page = all.slice(start, start + count);
    const next = start + page.length;
    return { messages: page, ...(next < all.length && { cursor: String(next) }) };
  }

  getDlq(dlqId) {
    const item = this.#dlq.get(dlqId);
    if (!item) throw new QStashError(404, `dlq message ${dlqId} not found`);
    return item.entry;
  }

  deleteDlq(dlqId) {
    if (!this.#dlq.delete(dlqId)) throw new QStashError(404, `dlq message ${dlqId} not found`);
  }

  deleteDlqMany(filter) {
    let deleted = 0;
    for (const [dlqId, { entry }] of this.#dlq) {
      if (matches(entry, filter)) deleted += Number(this.#dlq.delete(dlqId));
    }
    return { deleted };
  }

  /** Sends dead-lettered messages again, as new messages (new ids, retries from 0). */
  retryDlq(filter) {
    const responses = [];
    for (const [dlqId, { entry, message }] of this.#dlq) {
      if (!matches(entry, filter)) continue;
      this.#dlq.delete(dlqId);
      const { retried, readyAt, cancelled, started, abort, done, ...fields } = message;
      const again = this.#admit({ ...fields, messageId: newMessageId(), notBefore: Date.now(), createdAt: Date.now() }, this.#queue(message.queueName));
      responses.push({ messageId: again.messageId });
    }
    return { responses };
  }

  // ---- queues -------------------------------------------------------------------------------

  #queue(name) {
    return name === undefined ? undefined : this.#queues.get(name);
  }

  #createQueue(name, parallelism, paused) {
    const now = Date.now();
    const queue = { name, parallelism, paused, createdAt: now, updatedAt: now, waiting: [], active: 0, timer: undefined };
    this.#queues.set(name, queue);
    return queue;
  }

  upsertQueue({ queueName, parallelism = 1, paused = false }) {
    checkName(queueName, 'queue');
    if (!Number.isInteger(parallelism) || parallelism < 1) throw new QStashError(400, `parallelism must be a whole number of at least 1, not ${parallelism}`);
    const queue = this.#queue(queueName) ?? this.#createQueue(queueName, parallelism, Boolean(paused));
    Object.assign(queue, { parallelism, paused: Boolean(paused), updatedAt: Date.now() });
    this.#pump(queue);
  }

  getQueue(name) {
    const queue = this.#queue(name);
    if (!queue) throw new QStashError(404, `queue ${name} not found`);
    return queueView(queue);
  }

  listQueues() {
    return [...this.#queues.values()].map(queueView);
  }

  /** Deleting a queue drops what waits in it; deliveries already under way complete. */
  deleteQueue(name) {
    const queue = this.#queue(name);
    if (!queue) throw new QStashError(404, `queue ${name} not found`);
    this.#queues.delete(name);
    clearTimeout(queue.timer);
    for (const message of queue.waiting) this.#finish(message);
    queue.waiting = [];
  }

  setQueuePaused(name, paused) {
    const queue = this.#queue(name);
    if (!queue) throw new QStashError(404, `queue ${name} not found`);
    Object.assign(queue, { paused, updatedAt: Date.now() });
    this.#pump(queue);
  }

  /**
   * Starts queued messages while the queue has free slots: the oldest message that is due first
   * (FIFO), never more than `parallelism` at once. A slot is held through retries and callbacks,
   * so the next message waits for them, as QStash's ordered delivery does.
   */
  #pump(queue) {
    clearTimeout(queue.timer);
    if (queue.paused || this.#closing.signal.aborted || this.#queues.get(queue.name) !== queue) return;
    const now = Date.now();
    while (queue.active < queue.parallelism) {
      const index = queue.waiting.findIndex((message) => message.readyAt <= now);
      if (index === -1) break;
      const [message] = queue.waiting.splice(index, 1);
      queue.active++;
      this.#start(message).finally(() => {
        queue.active--;
        this.#pump(queue);
      });
    }
    if (queue.waiting.length > 0 && queue.active < queue.parallelism) {
      const next = Math.min(...queue.waiting.map((message) => message.readyAt));
      queue.timer = setTimeout(() => this.#pump(queue), Math.max(0, next - now));
    }
  }

  // ---- keys, stats, lifecycle ---------------------------------------------------------------

  /** The next key becomes the current one (what deliveries are signed with) and a new next is made. */
  rotateKeys() {
    this.keys = { current: this.keys.next, next: randomSigningKey() };
    return { ...this.keys };
  }

  stats() {
    return {
      ...this.#counters,
      dlq: this.#dlq.size,
      pending: this.#messages.size - this.#attempting,
      inFlight: this.#attempting,
      queues: Object.fromEntries([...this.#queues.values()].map((q) => [q.name, { parallelism: q.parallelism, paused: q.paused, lag: q.waiting.length, inFlight: q.active }])),
    };
  }

  /** Resolves (with the stats) once no message is waiting, retrying or in flight. */
  waitForIdle({ timeoutMs = 10_000 } = {}) {
    if (this.#messages.size === 0) return Promise.resolve(this.stats());
    return new Promise((resolve, reject) => {
      const done = () => {
        clearTimeout(timer);
        this.#idleWaiters.delete(done);
        resolve(this.stats());
      };
      const timer = setTimeout(() => {
        this.#idleWaiters.delete(done);
        reject(new Error(`the local QStash is not idle after ${timeoutMs} ms: ${JSON.stringify(this.stats())}`));
      }, timeoutMs);
      this.#idleWaiters.add(done);
    });
  }

  /** Stops every timer and attempt; nothing is delivered after this. */
  close() {
    this.#closing.abort();
    for (const queue of this.#queues.values()) clearTimeout(queue.timer);
  }

  #log(line) {
    this.#options.log?.(line);
  }
}

function queueView(queue) {
  return { createdAt: queue.createdAt, updatedAt: queue.updatedAt, name: queue.name, parallelism: queue.parallelism, lag: queue.waiting.length, paused: queue.paused };
}
