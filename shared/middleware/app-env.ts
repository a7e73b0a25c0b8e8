import type { Identity } from '../http/identity';
import type { Logger } from '../observability/logger';
import type { ServiceClaims } from '../security/service-token';
import type { Telemetry } from '../observability/telemetry';
import type { TraceContext } from '../observability/trace-context';

/** What `requestContext` puts on every Hono context, for handlers and later middleware. */
export interface RequestVariables {
  requestId: string;
  trace: TraceContext;
  /** The request's logger: every line carries requestId, traceId and spanId. */
  log: Logger;
  /** This worker's span recording and export (disabled when OTEL_EXPORTER_OTLP_ENDPOINT is unset). */
  telemetry: Telemetry;
  /** The route label for logs and metrics, when a handler knows better than the matched path. */
  routeLabel?: string;
  /** The service label for logs and metrics (the gateway sets the upstream's name). */
  serviceLabel?: string;
  /** In the gateway: the version of a versioned route chosen for this request (canary routing). */
  routeVersion?: { route: string; version: string };
  /** The end user a call is made for (null: anonymous), from a verified token. */
  identity?: Identity | null;
  /** In a service: what the gateway's service token said about this call. */
  caller?: ServiceClaims;
}

export interface AppEnv<Bindings extends object = object> {
  Bindings: Bindings;
  Variables: RequestVariables;
}
