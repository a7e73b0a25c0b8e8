/**
 * Structured JSON logs: one object per line, so Workers Logs, `wrangler tail` and any log
 * pipeline can filter by field (requestId, traceId, route) without parsing prose.
 */

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export type LogFields = Record<string, unknown>;

const LEVEL_RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export const isLogLevel = (value: unknown): value is LogLevel => typeof value === 'string' && value in LEVEL_RANK;

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

/** Errors do not survive JSON.stringify (their fields are not enumerable); spell them out. */
function serialise(value: unknown): unknown {
  if (value instanceof Error) {
    return { name: value.name, message: value.message, stack: value.stack, cause: value.cause === undefined ? undefined : serialise(value.cause) };
  }
  return value;
}

export function createLogger(base: { service: string } & LogFields, options: LoggerOptions = {}): Logger {
  const threshold = LEVEL_RANK[options.level ?? 'info'];
  const write = options.write ?? ((line: string) => console.log(line));
  const now = options.now ?? Date.now;

  const make = (bound: LogFields): Logger => {
    const emit = (level: LogLevel, msg: string, fields?: LogFields) => {
      if (LEVEL_RANK[level] < threshold) return;
      const line: LogFields = { ts: new Date(now()).toISOString(), level, ...bound, msg };
      if (fields) for (const [key, value] of Object.entries(fields)) line[key] = serialise(value);
      write(JSON.stringify(line));
    };
    return {
      debug: (msg, fields) => emit('debug', msg, fields),
      info: (msg, fields) => emit('info', msg, fields),
      warn: (msg, fields) => emit('warn', msg, fields),
      error: (msg, fields) => emit('error', msg, fields),
      child: (fields) => make({ ...bound, ...fields }),
    };
  };
  return make(base);
}
