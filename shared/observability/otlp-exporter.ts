import { logsRequest, tracesRequest } from './otlp-json';
import type { SpanRecord, SpanSink } from './span';

export interface OtlpExporterOptions {
  /** service.name of everything this exporter sends. */
  service: string;
  /** OTEL_EXPORTER_OTLP_ENDPOINT: the base URL; `/v1/traces` and `/v1/logs` are appended (the OTLP/HTTP convention). */
  endpoint: string;
  /** Extra request headers (OTEL_EXPORTER_OTLP_HEADERS: a vendor's API key). */
  headers?: Record<string, string>;
  fetch?: typeof fetch;
  now?: () => number;
  /** Spans (and, apart, log lines) held at most while none is being sent; more are dropped and counted. Default 4096. */
  maxBuffered?: number;
  /** Most spans or lines in one request. Default 512. */
  batchSize?: number;
  /** A send unanswered this long is abandoned, and a later flush takes over. Default 5000 ms. */
  sendTimeoutMs?: number;
  /**
   * How long a flush waits before it sends (OTEL_BSP_SCHEDULE_DELAY, through telemetry.ts), so
   * the spans of every request that ends meanwhile leave in the same request to the collector; the
   * wait ends early once a whole batch is buffered. Default 0: send at once.
   */
  scheduleDelayMs?: number;
  /** Waits `ms` (tests script it). */
  sleep?: (ms: number) => Promise<void>;
}

/** How often a waiting flush looks whether a whole batch is buffered already. */
const FULL_BATCH_POLL_MS = 50;

/**
 * Holds finished spans and log lines in two bounded arrays (an append each, on the request path)
 * and sends them as OTLP/HTTP JSON in batches when `flush()`'s promise runs in `waitUntil`.
 *
 * One flush sends at a time per isolate, and keeps sending while anything is buffered, so the
 * spans of requests that end while a send is on its way leave with the next batch of that same
 * flush: concurrent requests share requests to the collector instead of making one each. With a
 * schedule delay the flush first waits (in the same `waitUntil`), so under steady traffic an isolate
 * sends about once per delay rather than once per send's round trip. As in
 * the metrics recorder (shared/metrics/batching-recorder.ts), no request ever awaits a send another
 * request started (on workerd that other request's `waitUntil` may be cut short); a send that
 * hangs past `sendTimeoutMs` is abandoned and the next flush takes over.
 *
 * Telemetry is best effort: a batch the collector refuses or never answers is dropped (counted in
 * `failed`), never retried into a collector that is down, and never fails the request.
 */
export class OtlpExporter implements SpanSink {
  private spans: SpanRecord[] = [];
  private lines: string[] = [];
  private owner: { since: number } | null = null;
  /** Spans and lines dropped because the buffer was full. */
  dropped = 0;
  /** Spans and lines lost with a failed send. */
  failed = 0;
  private readonly tracesUrl: string;
  private readonly logsUrl: string;
  private readonly fetch: typeof fetch;
  private readonly now: () => number;
  private readonly maxBuffered: number;
  private readonly batchSize: number;
  private readonly sendTimeoutMs: number;
  readonly scheduleDelayMs: number;
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(private readonly options: OtlpExporterOptions) {
    const base = options.endpoint.replace(/\/+$/, '');
    this.tracesUrl = `${base}/v1/traces`;
    this.logsUrl = `${base}/v1/logs`;
    this.fetch = options.fetch ?? ((input, init) => fetch(input, init));
    this.now = options.now ?? Date.now;
    this.maxBuffered = options.maxBuffered ?? 4096;
    this.batchSize = options.batchSize ?? 512;
    this.sendTimeoutMs = options.sendTimeoutMs ?? 5_000;
    this.scheduleDelayMs = options.scheduleDelayMs ?? 0;
    this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
  }

  span(record: SpanRecord): void {
    if (this.spans.length >= this.maxBuffered) this.dropped++;
    else this.spans.push(record);
  }

  /** One logger line (already JSON): parsed only when sent. */
  log(line: string): void {
    if (this.lines.length >= this.maxBuffered) this.dropped++;
    else this.lines.push(line);
  }

  get buffered(): number {
    return this.spans.length + this.lines.length;
  }

  /**
   * The promise of sending everything buffered, for `waitUntil`; undefined when there is nothing
   * to send or another flush is sending (it takes what is buffered now with its next batch).
   */
  flush(): Promise<void> | undefined {
    if (this.spans.length === 0 && this.lines.length === 0) return undefined;
    const now = this.now();
    if (this.owner && now - this.owner.since < this.sendTimeoutMs) return undefined;
    const owner = { since: now };
    this.owner = owner;
    return this.drain(owner);
  }

  private async drain(owner: { since: number }): Promise<void> {
    // The schedule delay: spans of requests ending meanwhile join this send (their flush sees an
    // owner and returns). The owner stays fresh while it waits, so no other flush takes over.
    const sendAt = this.now() + this.scheduleDelayMs;
    while (this.owner === owner && this.buffered < this.batchSize && this.now() < sendAt) {
      await this.sleep(Math.min(FULL_BATCH_POLL_MS, sendAt - this.now()));
      owner.since = this.now();
    }
    while (this.owner === owner) {
      const spans = this.spans.length > this.batchSize ? this.spans.splice(0, this.batchSize) : this.spans;
      if (spans === this.spans) this.spans = [];
      const lines = this.lines.length > this.batchSize ? this.lines.splice(0, this.batchSize) : this.lines;
      if (lines === this.lines) this.lines = [];
      if (spans.length === 0 && lines.length === 0) {
        // Checked and released in one step: a span added after this is sent by the next flush.
        this.owner = null;
        return;
      }
      owner.since = this.now();
      const sent = await Promise.allSettled([
        spans.length > 0 ? this.post(this.tracesUrl, tracesRequest(this.options.service, spans)) : undefined,
        lines.length > 0 ? this.post(this.logsUrl, logsRequest(this.options.service, lines, this.now())) : undefined,
      ]);
      if (sent[0].status === 'rejected') this.failed += spans.length;
      if (sent[1].status === 'rejected') this.failed += lines.length;
      if (sent.some((outcome) => outcome.status === 'rejected')) {
        // The collector is down or refusing: stop here; the next request's flush tries again.
        if (this.owner === owner) this.owner = null;
        return;
      }
    }
  }

  private async post(url: string, body: unknown): Promise<void> {
    const response = await this.fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...this.options.headers },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(this.sendTimeoutMs),
    });
    // Read to the end so the connection is free again; the answer itself says nothing we act on.
    await response.arrayBuffer().catch(() => undefined);
    if (!response.ok) throw new Error(`collector answered ${response.status}`);
  }
}

/**
 * OTEL_EXPORTER_OTLP_HEADERS as the OpenTelemetry environment spec writes it:
 * `key1=value1,key2=value2`, values percent-encoded. Malformed entries are skipped.
 */
export function parseOtlpHeaders(value: string | undefined): Record<string, string> {
  const headers: Record<string, string> = {};
  if (!value) return headers;
  for (const entry of value.split(',')) {
    const at = entry.indexOf('=');
    if (at <= 0) continue;
    const key = entry.slice(0, at).trim();
    try {
      headers[key] = decodeURIComponent(entry.slice(at + 1).trim());
    } catch {
      // Not percent-encoding: skipped, as the spec says of a malformed entry.
    }
  }
  return headers;
}
