/**
 * Structured JSON logs: one object per line, so Workers Logs, `wrangler tail` and any log
 * pipeline can filter by field (requestId, traceId, route) without parsing prose.
 */

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export type LogFields = Record<string, unknown>;

const LEVEL_RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export const isLogLevel = (value: unknown): value is LogLevel => typeof value === 'string' && Object.hasOwn(LEVEL_RANK, value);

export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  /** A logger whose every line also carries `fields` (e.g. the request's ids). */
  child(fields: LogFields): Logger;
}

export interface LoggerOptions {
  /** Lines below this level are dropped. Default `info`. */
  level?: LogLevel;
  /** Where a finished line goes. Default `console.log`, which every runtime collects. */
  write?: (line: string) => void;
  /** Clock, passed in so tests can pin it. */
  now?: () => number;
}

/** Fields a caller cannot overwrite: a log line must always say when, how bad, who and what. */
const RESERVED = new Set(['ts', 'level', 'msg', 'service']);
const MAX_CAUSE_DEPTH = 5;

/** Errors do not survive JSON.stringify (their fields are not enumerable); spell them out. */
function serialise(value: unknown, depth = 0): unknown {
  if (value instanceof Error) {
    const cause = value.cause === undefined || depth >= MAX_CAUSE_DEPTH ? undefined : serialise(value.cause, depth + 1);
    return { name: value.name, message: value.message, stack: value.stack, cause };
  }
  if (typeof value === 'bigint') return value.toString();
  return value;
}

/** JSON of the line; a value JSON cannot hold (a cycle) costs that line its fields, never the log call. */
function stringify(line: LogFields): string {
  try {
    return JSON.stringify(line);
  } catch (error) {
    const { ts, level, service, msg } = line;
    return JSON.stringify({ ts, level, service, msg, logError: `fields not serialisable: ${(error as Error).message}` });
  }
}

/** Copies `fields` into `into` without the reserved keys; answers `into`. */
function addUnreserved(into: LogFields, fields: LogFields | undefined, map: (value: unknown) => unknown = (value) => value): LogFields {
  if (fields === undefined) return into;
  for (const key of Object.keys(fields)) if (!RESERVED.has(key)) into[key] = map(fields[key]);
  return into;
}

/** What every logger of one `createLogger` shares. */
interface LoggerCore {
  service: unknown;
  threshold: number;
  write: (line: string) => void;
  now: () => number;
}

/**
 * A class, not an object of closures: every request makes a child logger (request-context.ts),
 * and a child is then one small object whose methods live on the prototype, and whose fields are
 * copied once, without the intermediate arrays of entries.
 */
class JsonLogger implements Logger {
  constructor(
    private readonly core: LoggerCore,
    private readonly bound: LogFields,
  ) {}

  debug(msg: string, fields?: LogFields): void {
    this.emit('debug', msg, fields);
  }
  info(msg: string, fields?: LogFields): void {
    this.emit('info', msg, fields);
  }
  warn(msg: string, fields?: LogFields): void {
    this.emit('warn', msg, fields);
  }
  error(msg: string, fields?: LogFields): void {
    this.emit('error', msg, fields);
  }
  child(fields: LogFields): Logger {
    return new JsonLogger(this.core, addUnreserved({ ...this.bound }, fields));
  }

  private emit(level: LogLevel, msg: string, fields?: LogFields): void {
    const { core } = this;
    if (LEVEL_RANK[level] < core.threshold) return;
    const line: LogFields = { ts: new Date(core.now()).toISOString(), level, service: core.service, ...this.bound, msg };
    core.write(stringify(addUnreserved(line, fields, (value) => serialise(value))));
  }
}

export function createLogger(base: { service: string } & LogFields, options: LoggerOptions = {}): Logger {
  // Reserved keys are dropped wherever fields come in (per call or via child), so the core of
  // every line is written once and nothing can overwrite it.
  const core: LoggerCore = {
    service: base.service,
    threshold: LEVEL_RANK[options.level ?? 'info'],
    write: options.write ?? ((line: string) => console.log(line)),
    now: options.now ?? Date.now,
  };
  return new JsonLogger(core, addUnreserved({}, base));
}
