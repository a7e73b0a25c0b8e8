export declare const LOCAL_OTEL_PORT: number;

export interface OtelReceiverOptions {
  /** 0 (the default) picks a free port. */
  port?: number;
  host?: string;
  /** Traces kept (the oldest goes first); default 1000. */
  maxTraces?: number;
  /** Spans kept per trace; default 2000. */
  maxSpansPerTrace?: number;
  /** Log lines kept (the oldest go first); default 20000. */
  maxLogLines?: number;
}

export interface OtelReceiverStats {
  spans: number;
  logLines: number;
  droppedTraces: number;
  droppedSpans: number;
  droppedLogLines: number;
  traces: number;
  logLinesKept: number;
}

export interface OtelReceiver {
  /** Base URL: OTEL_EXPORTER_OTLP_ENDPOINT for exporters, OTEL_QUERY_URL for the gateway. */
  url: string;
  stats(): OtelReceiverStats;
  close(): Promise<void>;
}

export declare function startOtelReceiver(options?: OtelReceiverOptions): Promise<OtelReceiver>;
