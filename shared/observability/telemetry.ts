import { OtlpExporter, parseOtlpHeaders } from './otlp-exporter';
import { DISABLED_TRACER, Tracer } from './span';

/** The variables that turn export on (OpenTelemetry's own names, so any collector's docs apply). */
export interface TelemetryBindings {
  /** Base URL of an OTLP/HTTP receiver (`http://127.0.0.1:4318`); unset: nothing is recorded. */
  OTEL_EXPORTER_OTLP_ENDPOINT?: string;
  /** `key=value,...` headers sent with every export (a vendor's API key). */
  OTEL_EXPORTER_OTLP_HEADERS?: string;
  /**
   * Milliseconds an isolate gathers spans and log lines before it sends them (OpenTelemetry's
   * batch span processor delay); default 1000 (`DEFAULT_EXPORT_DELAY_MS`), `0` sends as each request ends.
   */
  OTEL_BSP_SCHEDULE_DELAY?: string;
}

/**
 * One export request per isolate per second under steady traffic, instead of one per ~6 requests
 * when every flush sent at once (bench:peer's traced row: 67,832 spans in 5,851 requests). OTel's
 * own default is 5 s; a second keeps a trace on the dashboard close to live, as the metrics' batch.
 */
export const DEFAULT_EXPORT_DELAY_MS = 1_000;

/** OTEL_BSP_SCHEDULE_DELAY as milliseconds: a whole number from 0 to 60,000, else the default. */
function exportDelayMs(value: string | undefined): number {
  const ms = Number(value);
  return value !== undefined && value.trim() !== '' && Number.isInteger(ms) && ms >= 0 && ms <= 60_000 ? ms : DEFAULT_EXPORT_DELAY_MS;
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
let last: { service: string; endpoint: string | undefined; headers: string | undefined; delay: string | undefined; telemetry: Telemetry } | null = null;

/**
 * The telemetry of `service` for this configuration, made once per isolate (the buffer must be
 * shared by the isolate's requests to batch them). The common case, the same service and
 * variables as the last call, is three string comparisons.
 */
export function telemetryFor(service: string, env: TelemetryBindings | undefined): Telemetry {
  const endpoint = env?.OTEL_EXPORTER_OTLP_ENDPOINT || undefined;
  const headers = env?.OTEL_EXPORTER_OTLP_HEADERS || undefined;
  const delay = env?.OTEL_BSP_SCHEDULE_DELAY;
  if (last && last.service === service && last.endpoint === endpoint && last.headers === headers && last.delay === delay) return last.telemetry;
  let telemetry = DISABLED_TELEMETRY;
  if (endpoint) {
    const scheduleDelayMs = exportDelayMs(delay);
    const key = `${service}\n${endpoint}\n${headers ?? ''}\n${scheduleDelayMs}`;
    let made = byKey.get(key);
    if (!made) {
      const exporter = new OtlpExporter({ service, endpoint, headers: parseOtlpHeaders(headers), scheduleDelayMs });
      made = new Telemetry(new Tracer(exporter), exporter);
      byKey.set(key, made);
    }
    telemetry = made;
  }
  last = { service, endpoint, headers, delay, telemetry };
  return telemetry;
}
