import type { Context, MiddlewareHandler } from 'hono';
import { routePath } from 'hono/route';
import { createLogger, type LogLevel, type Logger } from '../observability/logger';
import { acceptOrCreateRequestId, REQUEST_ID_HEADER } from '../observability/request-id';
import { SpanKind, SpanStatus } from '../observability/span';
import { telemetryFor, type Telemetry } from '../observability/telemetry';
import { continueTrace, formatTraceparent, type RandomBytes } from '../observability/trace-context';
import type { AppEnv } from './app-env';

/** What one finished request looked like; handed to `onComplete` for metrics. */
export interface CompletedRequest {
  service: string;
  route: string;
  method: string;
  status: number;
  durationMs: number;
}

export interface RequestContextOptions {
  /** This worker's name, on every log line. */
  service: string;
  /** Log level, read from the environment on each request (config may differ per deploy). */
  logLevel?: (c: Context) => LogLevel;
  /** Where log lines go; default `console.log`. */
  write?: (line: string) => void;
  now?: () => number;
  random?: RandomBytes;
  /** Called once per request after the response is final, errors included. */
  onComplete?: (c: Context, request: CompletedRequest) => void;
}

/**
 * The first middleware of every worker: request id, W3C trace context, a request-scoped logger,
 * and one structured log line per request. Responses carry `x-request-id` and, unless a service
 * further down already answered with one, a `traceresponse` (Trace Context Level 2) naming the
 * span that served the request, so a client can find the exact log lines.
 */
export const requestContext = (options: RequestContextOptions): MiddlewareHandler<AppEnv> => {
  const now = options.now ?? Date.now;
  // One logger per level and telemetry (the exporter's, when OTEL_EXPORTER_OTLP_ENDPOINT is set:
  // its lines are also kept for OTLP export), made once per isolate.
  const loggers = new Map<Telemetry, Map<LogLevel, Logger>>();
  const baseLogger = (level: LogLevel, telemetry: Telemetry) => {
    let byLevel = loggers.get(telemetry);
    if (!byLevel) loggers.set(telemetry, (byLevel = new Map()));
    let logger = byLevel.get(level);
    if (!logger) {
      logger = createLogger({ service: options.service }, { level, write: telemetry.writer(options.write), now });
      byLevel.set(level, logger);
    }
    return logger;
  };

  return async function requestContext(c, next) {
    const started = now();
    const requestId = acceptOrCreateRequestId(c.req.header(REQUEST_ID_HEADER));
    const trace = continueTrace(c.req.header('traceparent'), c.req.header('tracestate'), options.random);
    const telemetry = telemetryFor(options.service, c.env as Record<string, string | undefined> | undefined);
    const log = baseLogger(options.logLevel?.(c) ?? 'info', telemetry).child({
      requestId,
      traceId: trace.traceId,
      spanId: trace.spanId,
      parentSpanId: trace.parentSpanId,
    });
    c.set('requestId', requestId);
    c.set('trace', trace);
    c.set('log', log);
    c.set('telemetry', telemetry);

    await next();

    c.res.headers.set(REQUEST_ID_HEADER, requestId);
    if (!c.res.headers.has('traceresponse')) c.res.headers.set('traceresponse', formatTraceparent(trace.traceId, trace.spanId, trace.flags));

    const completed: CompletedRequest = {
      service: c.get('serviceLabel') ?? options.service,
      route: c.get('routeLabel') ?? matchedRoute(c),
      method: c.req.method,
      status: c.res.status,
      durationMs: now() - started,
    };
    // A 503 is the system protecting itself (an open breaker, a full bulkhead, chaos): worth
    // seeing, but an open breaker refusing thousands of calls must not flood the error level.
    const level = completed.status === 503 ? 'warn' : completed.status >= 500 ? 'error' : 'info';
    log[level]('request', {
      method: completed.method,
      route: completed.route,
      path: c.req.path,
      status: completed.status,
      durationMs: completed.durationMs,
      upstream: completed.service === options.service ? undefined : completed.service,
    });
    try {
      options.onComplete?.(c, completed);
    } catch (error) {
      // Bookkeeping (metrics) must never turn an answered request into a failure.
      log.error('request bookkeeping failed', { error });
    }
    if (telemetry.enabled) {
      // The request's own span: its ids were made above (and are on every log line already).
      telemetry.tracer
        .adopt(trace, `${completed.method} ${completed.route}`, SpanKind.SERVER, started, {
          'http.request.method': completed.method,
          'http.route': completed.route,
          'url.path': c.req.path,
          'http.response.status_code': completed.status,
          'request.id': requestId,
          'upstream.service': completed.service === options.service ? undefined : completed.service,
        })
        .end(completed.status >= 500 ? SpanStatus.ERROR : SpanStatus.UNSET, started + completed.durationMs);
      telemetry.flush(waitUntilOf(c));
    }
  };
};

/** The request's `waitUntil`, or undefined where there is no execution context (an app called directly in a test). */
function waitUntilOf(c: Context): ((promise: Promise<unknown>) => void) | undefined {
  try {
    const ctx = c.executionCtx;
    return (promise) => ctx.waitUntil(promise);
  } catch {
    return undefined;
  }
}

/** The pattern of the handler that answered; `unmatched` when only middleware ran (a 404). */
function matchedRoute(c: Context): string {
  const path = routePath(c, -1);
  return path === '/*' || path === '*' ? 'unmatched' : path;
}
