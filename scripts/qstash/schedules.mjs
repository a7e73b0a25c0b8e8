// Schedules (POST /v2/schedules/<destination> with Upstash-Cron): a publish kept with its cron
// expression and made again at every tick, in UTC. Creating with an existing Upstash-Schedule-Id
// replaces that schedule. A tick that passed while the server was down is not made up for: the
// next one after the start fires (whether QStash catches up missed ticks is not documented; not
// doing so never delivers more than QStash would).
import { randomBytes } from 'node:crypto';
import { nextCronTime, parseCron } from './cron.mjs';
import { bodyFields, forwardedHeaders, headerRecord, publishOptions, QStashError } from './messages.mjs';
import { parseDuration } from './timing.mjs';

/** setTimeout's longest wait (about 24.8 days); a later tick re-arms on the way. */
const MAX_TIMER_MS = 2 ** 31 - 1;
/** Headers a schedule keeps to make each message with: its Upstash-* options and what is forwarded. */
const KEPT = (name) => name === 'content-type' || (name.startsWith('upstash-') && !['upstash-cron', 'upstash-schedule-id', 'upstash-queue-name'].includes(name));

export class Schedules {
  #schedules = new Map(); // scheduleId -> record
  #timers = new Map();
  #store;
  #fire;
  #log;
  #defaults;
  #closed = false;

  /**
   * @param {{ store?: { put(kind: string, id: string, record: unknown): void, delete(kind: string, id: string): void },
   *   fire: (schedule: object) => void, defaults: object, log?: (line: string) => void }} options
   *   fire: publishes one message for the schedule (the engine's publish); defaults: as publishOptions takes them
   */
  constructor({ store, fire, defaults, log }) {
    this.#defaults = defaults;
    this.#store = store;
    this.#fire = fire;
    this.#log = log;
  }

  /** Takes up schedules kept by an earlier run; each waits for its next tick from now. */
  restore(records) {
    for (const record of records) this.#put(record, { save: false });
  }

  /** POST /v2/schedules/<destination>: checks everything a publish would, then keeps and arms it. */
  create({ destination, headers, body, callerIp }) {
    const cronText = headers.get('upstash-cron');
    if (!cronText) throw new QStashError(400, 'a schedule needs an Upstash-Cron header');
    let cron;
    try {
      cron = parseCron(cronText);
    } catch (error) {
      throw new QStashError(400, error.message);
    }
    // The same checks as a publish, so a bad delay or retry count fails now, not at every tick.
    publishOptions(headers, { now: Date.now(), defaults: this.#defaults });
    if (nextCronTime(cron, Date.now()) === undefined) throw new QStashError(400, `cron "${cronText}" never fires`);
    const scheduleId = headers.get('upstash-schedule-id') || `scd_${randomBytes(16).toString('base64url')}`;
    const previous = this.#schedules.get(scheduleId);
    const record = {
      scheduleId,
      cron: cronText.trim(),
      destination,
      queueName: headers.get('upstash-queue-name') || undefined,
      headers: [...headers].filter(([name]) => KEPT(name)),
      body: body.toString('base64'),
      callerIp,
      createdAt: previous?.createdAt ?? Date.now(),
      isPaused: false,
    };
    this.#put(record, { save: true });
    return { scheduleId };
  }

  get(scheduleId) {
    return view(this.#schedule(scheduleId), this.#next(scheduleId), this.#defaults);
  }

  list() {
    return [...this.#schedules.values()].map((record) => view(record, this.#next(record.scheduleId), this.#defaults));
  }

  delete(scheduleId) {
    this.#schedule(scheduleId);
    this.#disarm(scheduleId);
    this.#schedules.delete(scheduleId);
    this.#store?.delete('schedule', scheduleId);
  }

  setPaused(scheduleId, isPaused) {
    const record = { ...this.#schedule(scheduleId), isPaused };
    this.#put(record, { save: true });
  }

  close() {
    this.#closed = true;
    for (const scheduleId of [...this.#timers.keys()]) this.#disarm(scheduleId);
  }

  #schedule(scheduleId) {
    const record = this.#schedules.get(scheduleId);
    if (!record) throw new QStashError(404, `schedule ${scheduleId} not found`);
    return record;
  }

  #put(record, { save }) {
    this.#disarm(record.scheduleId);
    this.#schedules.set(record.scheduleId, record);
    if (save) this.#store?.put('schedule', record.scheduleId, record);
    if (!record.isPaused) this.#arm(record.scheduleId, parseCron(record.cron));
  }

  #next(scheduleId) {
    return this.#timers.get(scheduleId)?.at;
  }

  #arm(scheduleId, cron) {
    if (this.#closed) return;
    const at = nextCronTime(cron, Date.now());
    if (at === undefined) return;
    const wait = () => {
      const left = at - Date.now();
      const timer = setTimeout(left > MAX_TIMER_MS ? wait : () => this.#tick(scheduleId, cron, at), Math.min(Math.max(0, left), MAX_TIMER_MS));
      timer.unref();
      this.#timers.set(scheduleId, { timer, at });
    };
    wait();
  }

  #disarm(scheduleId) {
    clearTimeout(this.#timers.get(scheduleId)?.timer);
    this.#timers.delete(scheduleId);
  }

  #tick(scheduleId, cron, at) {
    const record = this.#schedules.get(scheduleId);
    if (!record || record.isPaused || this.#closed) return;
    try {
      this.#fire(record);
      record.lastScheduleTime = at;
      this.#store?.put('schedule', scheduleId, record);
    } catch (error) {
      // A URL group deleted since, say: this tick makes nothing, the next one tries again.
      this.#log?.(`schedule ${scheduleId} could not publish to ${record.destination}: ${error.message}`);
    }
    this.#arm(scheduleId, cron);
  }
}

/** GET /v2/schedules/<id>: the schedule as QStash shows it. */
function view(record, nextScheduleTime, defaults) {
  const headers = new Headers(record.headers);
  const body = Buffer.from(record.body, 'base64');
  const options = publishOptions(headers, { now: 0, defaults });
  const delay = headers.get('upstash-delay');
  const flowControl = flowControlValues(headers.get('upstash-flow-control-value'));
  return {
    scheduleId: record.scheduleId,
    cron: record.cron,
    createdAt: record.createdAt,
    destination: record.destination,
    method: options.method,
    header: headerRecord(forwardedHeaders(headers)),
    ...bodyFields(body, 'body', 'bodyBase64'),
    retries: options.maxRetries,
    ...(delay != null && { delay: parseDuration(delay) / 1_000 }),
    ...(options.callback !== undefined && { callback: options.callback }),
    ...(options.failureCallback !== undefined && { failureCallback: options.failureCallback }),
    ...(record.queueName !== undefined && { queueName: record.queueName }),
    ...(options.retryDelayExpression !== undefined && { retryDelayExpression: options.retryDelayExpression }),
    ...(options.flowControlKey !== undefined && { flowControlKey: options.flowControlKey, ...flowControl }),
    ...(options.labels !== undefined && { label: options.labels[0], labels: [...options.labels] }),
    callerIp: record.callerIp,
    isPaused: record.isPaused,
    ...(record.lastScheduleTime !== undefined && { lastScheduleTime: record.lastScheduleTime }),
    ...(nextScheduleTime !== undefined && { nextScheduleTime }),
  };
}

/** "parallelism=10, rate=5, period=1d" -> { parallelism: 10, rate: 5, period: 86400 } (period in seconds). */
function flowControlValues(value) {
  const fields = {};
  for (const part of (value ?? '').split(',')) {
    const [key, raw] = part.split('=').map((s) => s.trim());
    if (key === 'parallelism' || key === 'rate') fields[key] = Number(raw);
    if (key === 'period') fields.period = (parseDuration(raw) ?? Number(raw) * 1_000) / 1_000;
  }
  return fields;
}
