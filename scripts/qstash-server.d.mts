export interface QStashServerOptions {
  /** 0 (the default) picks a free port. */
  port?: number;
  host?: string;
  /** Bearer token publishers must send; defaults to the local-only constant. */
  token?: string;
  /** Deliveries are signed with this key (HS256 over its UTF-8 bytes). */
  currentSigningKey?: string;
  nextSigningKey?: string;
  /** The QStash plan to behave as: default retries (free 3, paid 5) and DLQ retention (3 / 7 days). Default 'free'. */
  plan?: 'free' | 'paid';
  /** Retries when a publish sends no Upstash-Retries; overrides the plan's. */
  maxRetries?: number;
  /** How long a deduplication id is remembered (QStash: 90 days). */
  dedupRetentionMs?: number;
  /** How long a dead letter is kept; overrides the plan's. */
  dlqRetentionMs?: number;
  /**
   * A folder where state is kept across restarts (messages in flight, delays, retries, queues, URL
   * groups, the DLQ, dedup ids, keys). Absent: in memory only.
   */
  stateDir?: string;
  /** Multiplies every wait before a retry (QStash's min(1 day, e^(2.5 n)) s, Upstash-Retry-Delay, or the answer's Retry-After); 1 = real time. */
  retryDelayScale?: number;
  /** Multiplies Upstash-Delay (not Upstash-Not-Before, an absolute time); 1 = real time. */
  delayScale?: number;
  /** Per-attempt deadline when a publish sends no Upstash-Timeout. */
  deliveryTimeoutMs?: number;
  /** Probability that a delivered message is delivered once more (same id): at-least-once, made visible. */
  duplicateRate?: number;
  /** Source of randomness for duplicateRate, e.g. seededRandom(42). */
  random?: () => number;
  /** One line per delivery, retry, dead letter; silent when absent. */
  log?: (line: string) => void;
}

export interface QStashQueueStats {
  parallelism: number;
  paused: boolean;
  /** Messages waiting for a slot. */
  lag: number;
  /** Slots in use (a slot is held through retries and callbacks). */
  inFlight: number;
}

export interface QStashStats {
  /** Messages accepted (one per endpoint of a URL group; callbacks included). */
  published: number;
  /** Successful deliveries (callbacks included; duplicates not). */
  delivered: number;
  /** Extra deliveries made by duplicateRate. */
  duplicated: number;
  failedAttempts: number;
  /** Retries scheduled. */
  retried: number;
  /** Messages that went to the DLQ, ever. */
  deadLettered: number;
  callbacks: number;
  /** Messages in the DLQ now. */
  dlq: number;
  /** Messages not finished and not being attempted right now (waiting, delayed, between retries, queued). */
  pending: number;
  /** HTTP attempts under way. */
  inFlight: number;
  queues: Record<string, QStashQueueStats>;
}

export interface QStashServer {
  /** Base URL for `new Client({ baseUrl: url, token })`, e.g. http://127.0.0.1:8080 */
  url: string;
  token: string;
  /** The key deliveries are signed with now (changes on POST /v2/keys/rotate). */
  readonly currentSigningKey: string;
  readonly nextSigningKey: string;
  /**
   * Deliveries to URLs on origin `from` are sent to origin `to`, still signed for the URL as
   * published (a hosts-file entry; no such knob in QStash): for a harness whose receiving server
   * binds port 0 after the URLs it publishes to are fixed.
   */
  routeOrigin(from: string, to: string): void;
  stats(): QStashStats;
  /** Resolves once nothing is waiting, retrying or in flight; rejects (with the stats) after timeoutMs (default 10 s). */
  waitForIdle(options?: { timeoutMs?: number }): Promise<QStashStats>;
  close(): Promise<void>;
}

export function startQStashServer(options?: QStashServerOptions): Promise<QStashServer>;
/** The folder the CLI and `npm run dev` keep the local QStash's state in (.wrangler/state/qstash). */
export const QSTASH_STATE_DIR: string;
export function seededRandom(seed: number): () => number;
