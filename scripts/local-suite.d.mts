import type { Miniflare } from 'miniflare';
import type { OtelReceiver } from './otel-receiver.mjs';
import type { LegacyMonolith } from './legacy-monolith.mjs';
import type { QStashServer, QStashServerOptions } from './qstash-server.mjs';

export const ADMIN_TOKEN: string;

export interface LocalSuiteOptions {
  /** Merged into every worker's bindings. */
  vars?: Record<string, string>;
  /** Per worker folder name (`gateway`, `orders`, ...), merged last. */
  workerVars?: Record<string, Record<string, string>>;
  qstash?: QStashServerOptions & { seed?: number };
  /** Keep workerd's output in `logs.text` (it is always counted in `logs.lines`). */
  keepLogs?: boolean;
  /** Names the build folders of the bundles (`.wrangler/build/<prefix>-<worker>`); default `suite`. */
  buildPrefix?: string;
}

/** A service's D1 as Miniflare hands it out (the same API as a worker's D1 binding). */
export type SuiteDatabase = Awaited<ReturnType<Miniflare['getD1Database']>>;

export interface LocalSuite {
  url(path: string): string;
  gatewayUrl: string;
  qstash: QStashServer;
  /** The OTLP receiver every worker exports its spans and log lines to. */
  otel: OtelReceiver;
  /** The legacy monolith behind the gateway's strangler-fig route (scripts/legacy-monolith.mjs). */
  legacy: LegacyMonolith;
  logs: { lines: number; text: string };
  mf: Miniflare;
  db(service: string): SuiteDatabase;
  bearer(userId: string, roles?: string[]): Promise<string>;
  operator: { authorization: string };
  dispose(): Promise<void>;
}

export function startLocalSuite(options?: LocalSuiteOptions): Promise<LocalSuite>;
