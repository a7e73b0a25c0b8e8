import type { Logger } from '../observability/logger';
import type { TraceContext } from '../observability/trace-context';

/** What `requestContext` puts on every Hono context, for handlers and later middleware. */
export interface RequestVariables {
  requestId: string;
  trace: TraceContext;
  /** The request's logger: every line carries requestId, traceId and spanId. */
  log: Logger;
  /** The route label for logs and metrics, when a handler knows better than the matched path. */
  routeLabel?: string;
  /** The service label for logs and metrics (the gateway sets the upstream's name). */
  serviceLabel?: string;
}

export interface AppEnv<Bindings extends object = object> {
  Bindings: Bindings;
  Variables: RequestVariables;
}
