import { OtlpExporter, parseOtlpHeaders } from './otlp-exporter';
import { DISABLED_TRACER, Tracer } from './span';

/** The variables that turn export on (OpenTelemetry's own names, so any collector's docs apply). */
export interface TelemetryBindings {
  /** Base URL of an OTLP/HTTP receiver (`http://127.0.0.1:4318`); unset: nothing is recorded. */
  OTEL_EXPORTER_OTLP_ENDPOINT?: string;
  /** `key=value,...` headers sent with every export (a vendor's API key). */
  OTEL_EXPORTER_OTLP_HEADERS?: string;
}

/**
 * One worker's spans and log export in one isolate: a tracer that records into the exporter, and
 * the exporter that also takes the logger's lines. Without an endpoint it is `DISABLED_TELEMETRY`:
 * pass-through spans, no buffer, nothing sent.
 */
export class Telemetry {
  constructor(
    readonly tracer: Tracer,
    readonly exporter: OtlpExporter | null,
  ) {}

  get enabled(): boolean {
    return this.exporter !== null;
  }

  /** A logger `write` that also keeps the line for export (logger.ts LoggerOptions.write). */
  writer(write: (line: string) => void = (line) => console.log(line)): (line: string) => void {
    const exporter = this.exporter;
    if (!exporter) return write;
    return (line) => {
      write(line);
      exporter.log(line);
    };
  }

  /** Hands the export of what is buffered to `waitUntil` (no-op when disabled or nothing is due). */
  flush(waitUntil: ((promise: Promise<unknown>) => void) | undefined): void {
    const sending = this.exporter?.flush();
    if (sending && waitUntil) waitUntil(sending);
  }
}

export const DISABLED_TELEMETRY = new Telemetry(DISABLED_TRACER, null);

const byKey = new Map<string, Telemetry>();
let last: { service: string; endpoint: string | undefined; headers: string | undefined; telemetry: Telemetry } | null = null;

/**
 * The telemetry of `service` for this configuration, made once per isolate (the buffer must be
 * shared by the isolate's requests to batch them). The common case, the same service and
 * variables as the last call, is three string comparisons.
 */
export function telemetryFor(service: string, env: TelemetryBindings | undefined): Telemetry {
  const endpoint = env?.OTEL_EXPORTER_OTLP_ENDPOINT || undefined;
  const headers = env?.OTEL_EXPORTER_OTLP_HEADERS || undefined;
  if (last && last.service === service && last.endpoint === endpoint && last.headers === headers) return last.telemetry;
  let telemetry = DISABLED_TELEMETRY;
  if (endpoint) {
    const key = `${service}\n${endpoint}\n${headers ?? ''}`;
    let made = byKey.get(key);
    if (!made) {
      const exporter = new OtlpExporter({ service, endpoint, headers: parseOtlpHeaders(headers) });
      made = new Telemetry(new Tracer(exporter), exporter);
      byKey.set(key, made);
    }
    telemetry = made;
  }
  last = { service, endpoint, headers, telemetry };
  return telemetry;
}
