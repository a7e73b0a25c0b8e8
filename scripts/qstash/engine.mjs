// The local QStash's state and clock: messages waiting, in flight and retrying, queues with their
// parallelism, URL groups, the DLQ, deduplication ids and the signing keys. With a state store
// (the CLI and `npm run dev` give it one under the local state folder) all of it survives a
// restart: a message delayed, between retries or in flight when the server stopped is delivered
// after it starts again (an attempt cut short is made again: at-least-once, as QStash is).
import { setTimeout as sleep } from 'node:timers/promises';
import { callbackBody, deliverOnce, responseFields } from './delivery.mjs';
import { matchesFilter } from './filters.mjs';
import {
  checkDestinationUrl,
  checkName,
  deduplicationKey,
  forwardedHeaders,
  isDestinationUrl,
  messageView,
  newMessageId,
  publishAnswer,
  publishOptions,
  QStashError,
} from './messages.mjs';
import { isNonRetryable, retryHintMs } from './retry-hints.mjs';
import { Schedules } from './schedules.mjs';
import { randomSigningKey } from './signing.mjs';
import { compileRetryDelay, defaultBackoffMs } from './timing.mjs';
import { UrlGroups } from './url-groups.mjs';

/** How often expired deduplication ids and dead letters are swept out. */
const SWEEP_EVERY_MS = 60_000;

export class QStashEngine {
  #options;
  #store; // StateStore, or undefined: in memory only
  #messages = new Map(); // every message not yet finished (waiting, in flight or between retries)
  #queues = new Map();
  /** URL groups (QStash's older name: topics), used as-is by the routes. */
  urlGroups;
  #dlq = new Map(); // dlqId -> { entry, message }, in arrival order
  #dedup = new Map(); // deduplication key -> { answers, expiresAt }
  #dlqSequence = 0;
  #messageSequence = 0; // orders queued messages (FIFO) across restarts
  #sweeper;
  #attempting = 0;
  #idleWaiters = new Set();
  #closing = new AbortController();
  /** Origin a destination names -> origin its deliveries are sent to (see routeOrigin). */
  #originRoutes = new Map();
  #counters = { published: 0, delivered: 0, duplicated: 0, failedAttempts: 0, retried: 0, deadLettered: 0, callbacks: 0 };

  /**
   * @param {object} options
   * @param {import('./state-store.mjs').StateStore} [options.store] where state is kept across restarts
   * @param {number} options.maxRetries retries of a message published without Upstash-Retries (the plan's)
   * @param {number} options.dedupRetentionMs how long a deduplication id is remembered
   * @param {number} options.dlqRetentionMs how long a dead letter is kept
   */
  constructor(options) {
    this.#options = options;
    this.#store = options.store;
    this.keys = { current: options.currentSigningKey, next: options.nextSigningKey };
    this.urlGroups = new UrlGroups({ onChange: (name, group) => (group ? this.#store?.put('group', name, group) : this.#store?.delete('group', name)) });
    const { maxRetries, retryDelayScale, delayScale, deliveryTimeoutMs } = options;
    /** Schedules (cron), used as-is by the routes; each tick is a publish of its own. */
    this.schedules = new Schedules({
      store: this.#store,
      defaults: { maxRetries, retryDelayScale, delayScale, deliveryTimeoutMs },
      log: (line) => this.#log(line),
      fire: (schedule) => {
        const headers = new Headers(schedule.headers);
        const { answer } = this.publish({ destination: schedule.destination, queueName: schedule.queueName, headers, body: Buffer.from(schedule.body, 'base64'), callerIp: schedule.callerIp, scheduleId: schedule.scheduleId });
        this.#log(`schedule ${schedule.scheduleId} published ${[answer].flat().map((a) => a.messageId).join(', ')}`);
      },
    });
    if (this.#store) this.#restore();
    this.#sweeper = setInterval(() => this.sweep(), SWEEP_EVERY_MS);
    this.#sweeper.unref();
  }

  // ---- persistence --------------------------------------------------------------------------

  /**
   * Takes up what the store holds: keys (a rotation survives), URL groups, queues, deduplication
   * ids, the DLQ, and every unfinished message, which starts again at its readyAt (past: at once).
   */
  #restore() {
    const store = this.#store;
    const keys = store.all('keys').get('signing');
    if (keys) this.keys = keys;
    this.urlGroups.restore(store.all('group').values());
    this.schedules.restore(store.all('schedule').values());
    for (const record of store.all('queue').values()) this.#createQueue(record.name, record.parallelism, record.paused, record);
    for (const [key, seen] of store.all('dedup')) this.#dedup.set(key, seen);
    for (const [dlqId, { entry, message }] of store.all('dlq')) {
      this.#dlq.set(dlqId, { entry, message: fromRecord(message) });
      this.#dlqSequence = Math.max(this.#dlqSequence, Number(dlqId.split('-')[1]) + 1 || 0);
    }
    const messages = [...store.all('message').values()].map(fromRecord).sort((a, b) => a.seq - b.seq);
    this.#messageSequence = messages.reduce((next, message) => Math.max(next, message.seq + 1), 0);
    for (const fields of messages) {
      // Enqueued to a queue deleted meanwhile cannot happen (deleting drops its messages), but a
      // hand-edited store could; such a message goes on its way unqueued rather than vanishing.
      this.#admit(fields, this.#queue(fields.queueName), { restored: true });
    }
    this.sweep();
    if (messages.length > 0) this.#log(`restored ${messages.length} unfinished message(s), ${this.#dlq.size} dead letter(s)`);
  }

  /** Records a message's current state (on admission and whenever its next attempt moves). */
  #save(message) {
    this.#store?.put('message', message.messageId, toRecord(message));
  }

  /** The message is finished (delivered, dead-lettered or cancelled): nothing to redo after a restart. */
  #forget(message) {
    this.#store?.delete('message', message.messageId);
  }

  /** Drops deduplication ids and dead letters older than their retention. */
  sweep(now = Date.now()) {
    for (const [key, seen] of this.#dedup) {
      if (seen.expiresAt > now) continue;
      this.#dedup.delete(key);
      this.#store?.delete('dedup', key);
    }
    const { dlqRetentionMs } = this.#options;
    for (const [dlqId, { entry }] of this.#dlq) {
      if (entry.deadLetteredAt + dlqRetentionMs > now) continue;
      this.#dlq.delete(dlqId);
      this.#store?.delete('dlq', dlqId);
    }
  }

  // ---- publishing ---------------------------------------------------------------------------

  /**
   * POST /v2/publish/{destination} and /v2/enqueue/{queue}/{destination}: a URL gets one message,
   * a URL group one per endpoint. A deduplicated publish answers 202 with the first one's ids.
   */
  publish({ destination, queueName, headers, body, callerIp, scheduleId }) {
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
    if (seen && seen.expiresAt > now) {
      const answers = seen.answers.map((answer) => ({ ...answer, deduplicated: true }));
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
      labels: options.labels,
      flowControlKey: options.flowControlKey,
      notBefore: options.notBefore,
      createdAt: now,
      callerIp,
      scheduleId,
    }));
    const answers = messages.map((message) => publishAnswer(message));
    if (key) {
      const seenNow = { answers, expiresAt: now + this.#options.dedupRetentionMs };
      this.#dedup.set(key, seenNow);
      this.#store?.put('dedup', key, seenNow);
    }
    for (const message of messages) this.#admit(message, queue);
    return { status: 201, answer: group ? answers : answers[0] };
  }

  /** Puts a new message in play: into its queue, or straight on its way. */
  #admit(fields, queue, { restored = false } = {}) {
    const message = { retried: 0, readyAt: fields.notBefore, seq: this.#messageSequence++, ...fields, cancelled: false, started: false, abort: new AbortController() };
    this.#messages.set(message.messageId, message);
    if (!restored) {
      this.#counters.published++;
      this.#save(message);
    }
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
      // Stopping cut the attempt short: it stays in the store and is made again after a restart.
      if (this.#closing.signal.aborted) return;
      if (outcome.ok) {
        this.#counters.delivered++;
        this.#log(`delivered ${message.messageId} -> ${message.url} (${outcome.status}, retried ${message.retried})`);
        if (duplicateRate > 0 && random() < duplicateRate) {
          // At-least-once made visible: the same message (same id) once more.
          this.#counters.duplicated++;
          const again = await this.#attempt(message);
          this.#log(`delivered ${message.messageId} AGAIN (duplicateRate) -> ${message.url} (${again.status ?? again.error})`);
        }
        const callback = message.callback && this.#followUp(message, message.callback, callbackBody(message, outcome));
        this.#forget(message);
        if (callback) await callback;
        return;
      }
      this.#counters.failedAttempts++;
      if (message.cancelled) return;
      const why = outcome.status !== undefined ? `status ${outcome.status}` : outcome.error;
      const refused = isNonRetryable(outcome);
      if (refused || message.retried >= message.maxRetries) {
        const dlqId = this.#deadLetter(message, outcome);
        const after = refused ? 'at once (489, Upstash-NonRetryable-Error: true)' : `after ${message.retried} retries (${why})`;
        this.#log(`dead-lettered ${message.messageId} -> ${message.url} ${after}, dlqId ${dlqId}`);
        const callback = message.failureCallback && this.#followUp(message, message.failureCallback, callbackBody(message, outcome, { dlqId }));
        this.#forget(message);
        if (callback) await callback;
        return;
      }
      message.retried++;
      this.#counters.retried++;
      // The destination's own hint (Retry-After, X-RateLimit-Reset*) replaces the backoff for this
      // retry, as QStash does; either way retryDelayScale runs the clock faster in tests.
      const hinted = retryHintMs(outcome.headers);
      const backoff = hinted ?? (message.retryDelay ? message.retryDelay(message.retried - 1) : defaultBackoffMs(message.retried));
      const delay = backoff * retryDelayScale;
      message.readyAt = Date.now() + delay;
      this.#save(message);
      const reason = hinted === undefined ? '' : ' as the answer asked';
      this.#log(`attempt of ${message.messageId} -> ${message.url} failed (${why}); retry ${message.retried}/${message.maxRetries} in ${Math.round(delay)} ms${reason}`);
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
  #followUp(source, url, body) {
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
    return source.queueName !== undefined ? callback.done : undefined;
  }

  #deadLetter(message, outcome) {
    const now = Date.now();
    const dlqId = `${now}-${this.#dlqSequence++}`;
    const entry = { ...messageView(message), dlqId, ...responseFields(outcome), deadLetteredAt: now };
    this.#dlq.set(dlqId, { entry, message });
    this.#store?.put('dlq', dlqId, { entry, message: toRecord(message) });
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
    this.#forget(message);
    if (!message.started) {
      const queue = this.#queue(message.queueName);
      if (queue) queue.waiting = queue.waiting.filter((waiting) => waiting !== message);
      this.#finish(message);
    }
    return { cancelled: 1 };
  }

  /**
   * DELETE /v2/messages: cancels the messages matching `filter` (checked by filters.mjs; empty =
   * all), at most `count` of them, oldest first. The client documents `count` as ignored by
   * QStash's cancel (it cancels every match); this server honours it, the side that touches less.
   */
  cancelMessages(filter, { count = Infinity } = {}) {
    const matching = [...this.#messages.values()]
      .filter((message) => !message.cancelled && matchesFilter(messageView(message), filter))
      .slice(0, count);
    for (const message of matching) this.cancelMessage(message.messageId);
    return { cancelled: matching.length };
  }

  // ---- dead letter queue --------------------------------------------------------------------

  /**
   * The DLQ entries matching `filter`, oldest first, from after `cursor` (the last dlqId a page
   * ended with), at most `count`; `cursor` in the answer when more match after them.
   */
  #dlqPage(filter, { cursor, count = 100 } = {}) {
    const all = [...this.#dlq.entries()].filter(([, { entry }]) => matchesFilter(entry, filter));
    let start = 0;
    if (cursor !== undefined) {
      // Entries are in dlqId order; a cursor past an entry deleted meanwhile still finds its place.
      const [cursorTime, cursorSeq] = cursor.split('-').map(Number);
      start = all.findIndex(([dlqId]) => {
        const [time, seq] = dlqId.split('-').map(Number);
        return time > cursorTime || (time === cursorTime && seq > cursorSeq);
      });
      if (start === -1) start = all.length;
    }
    const page = all.slice(start, start + count);
    const more = start + page.length < all.length;
    return { page, cursor: more ? page.at(-1)[0] : undefined };
  }

  listDlq(filter, paging) {
    const { page, cursor } = this.#dlqPage(filter, paging);
    return { messages: page.map(([, { entry }]) => entry), ...(cursor && { cursor }) };
  }

  getDlq(dlqId) {
    const item = this.#dlq.get(dlqId);
    if (!item) throw new QStashError(404, `dlq message ${dlqId} not found`);
    return item.entry;
  }

  deleteDlq(dlqId) {
    if (!this.#dlq.delete(dlqId)) throw new QStashError(404, `dlq message ${dlqId} not found`);
    this.#store?.delete('dlq', dlqId);
  }

  /** DELETE /v2/dlq: the matching entries, at most `count` per call; `cursor` if more match. */
  deleteDlqMany(filter, paging) {
    const { page, cursor } = this.#dlqPage(filter, paging);
    for (const [dlqId] of page) this.deleteDlq(dlqId);
    return { deleted: page.length, ...(cursor && { cursor }) };
  }

  /**
   * POST /v2/dlq/retry: sends the matching dead letters again as new messages (new ids, retries
   * from 0, to the same URL, queue and URL group), at most `count` per call; `cursor` if more match.
   */
  retryDlq(filter, paging) {
    const { page, cursor } = this.#dlqPage(filter, paging);
    const responses = [];
    for (const [dlqId, { message }] of page) {
      this.#dlq.delete(dlqId);
      this.#store?.delete('dlq', dlqId);
      const { retried, readyAt, cancelled, started, abort, done, seq, ...fields } = message;
      const now = Date.now();
      const again = this.#admit({ ...fields, messageId: newMessageId(), notBefore: now, createdAt: now }, this.#queue(message.queueName));
      this.#log(`retrying dead letter ${dlqId} as ${again.messageId} -> ${again.url}`);
      responses.push({ messageId: again.messageId, url: again.url });
    }
    return { responses, ...(cursor && { cursor }) };
  }

  // ---- queues -------------------------------------------------------------------------------

  #queue(name) {
    return name === undefined ? undefined : this.#queues.get(name);
  }

  #createQueue(name, parallelism, paused, { createdAt = Date.now(), updatedAt = createdAt } = {}) {
    const queue = { name, parallelism, paused, createdAt, updatedAt, waiting: [], active: 0, timer: undefined };
    this.#queues.set(name, queue);
    this.#saveQueue(queue);
    return queue;
  }

  #saveQueue(queue) {
    const { name, parallelism, paused, createdAt, updatedAt } = queue;
    this.#store?.put('queue', name, { name, parallelism, paused, createdAt, updatedAt });
  }

  upsertQueue({ queueName, parallelism = 1, paused = false }) {
    checkName(queueName, 'queue');
    if (!Number.isInteger(parallelism) || parallelism < 1) throw new QStashError(400, `parallelism must be a whole number of at least 1, not ${parallelism}`);
    const queue = this.#queue(queueName) ?? this.#createQueue(queueName, parallelism, Boolean(paused));
    Object.assign(queue, { parallelism, paused: Boolean(paused), updatedAt: Date.now() });
    this.#saveQueue(queue);
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
    this.#store?.delete('queue', name);
    clearTimeout(queue.timer);
    for (const message of queue.waiting) {
      this.#forget(message);
      this.#finish(message);
    }
    queue.waiting = [];
  }

  setQueuePaused(name, paused) {
    const queue = this.#queue(name);
    if (!queue) throw new QStashError(404, `queue ${name} not found`);
    Object.assign(queue, { paused, updatedAt: Date.now() });
    this.#saveQueue(queue);
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
    this.#store?.put('keys', 'signing', this.keys);
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
    clearInterval(this.#sweeper);
    this.schedules.close();
    this.#store?.close();
    for (const queue of this.#queues.values()) clearTimeout(queue.timer);
  }

  #log(line) {
    this.#options.log?.(line);
  }
}

/** A message as the store keeps it: JSON only (the body in base64, no timers or functions). */
function toRecord(message) {
  const { cancelled, started, abort, done, retryDelay, body, ...fields } = message;
  return { ...fields, body: body.toString('base64') };
}

function fromRecord(record) {
  const body = Buffer.from(record.body, 'base64');
  // The expression was checked at publish time; compiling it again cannot fail.
  const retryDelay = record.retryDelayExpression === undefined ? undefined : compileRetryDelay(record.retryDelayExpression);
  return { ...record, body, retryDelay };
}

function queueView(queue) {
  return { createdAt: queue.createdAt, updatedAt: queue.updatedAt, name: queue.name, parallelism: queue.parallelism, lag: queue.waiting.length, paused: queue.paused };
}
