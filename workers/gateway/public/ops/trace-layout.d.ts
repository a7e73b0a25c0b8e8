// Types of trace-layout.js for the gateway's TypeScript (ops/trace-waterfall.ts) and the tests; not served (.assetsignore).
import type { OtlpTracesRequest } from '../../../../shared/observability/otlp-json';

export interface WaterfallRow {
  service: string;
  name: string;
  /** SERVER, CLIENT, PRODUCER, CONSUMER, INTERNAL (or the number, for a kind OTLP does not name). */
  kind: string;
  spanId: string;
  parentSpanId: string | null;
  /** 0 for a root; a child is one deeper than its parent. */
  depth: number;
  offsetMs: number;
  durationMs: number;
  leftPercent: number;
  widthPercent: number;
  colour: string;
  error: boolean;
  /** `key=value` pairs, two spaces apart. */
  attributes: string;
}

export interface Waterfall {
  rows: WaterfallRow[];
  services: { name: string; colour: string }[];
  startMs: number;
  totalMs: number;
}

export const SERVICE_COLOURS: readonly string[];
export const MIN_BAR_PERCENT: number;
export function layoutTrace(trace: OtlpTracesRequest): Waterfall;
export function formatMs(ms: number): string;
