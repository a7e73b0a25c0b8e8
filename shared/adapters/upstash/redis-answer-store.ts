import { Redis } from '@upstash/redis/cloudflare';
import type { AnswerStore } from '../../cache/answer-store';
import { decodeAnswer, encodeAnswer, lifetimeSeconds, type CachedAnswer } from '../../cache/cached-answer';

export interface UpstashAnswerStoreOptions {
  /** UPSTASH_REDIS_REST_URL */
  url: string;
  /** UPSTASH_REDIS_REST_TOKEN */
  token: string;
  /** A command not answered within this long fails; a cache must never be slower than its upstream. Default 500. */
  timeoutMs?: number;
  /** Key prefix. Default `stratus:cache:`. */
  prefix?: string;
}

/**
 * The gateway's L2 response cache in Upstash Redis: one JSON value per key (the answer, its body
 * base64, its stored-at time, TTL, stale-while-revalidate and tag versions), written with
 * `SET ... EX <ttl + swr>` so Redis drops it once no one may be served it. Shared by every
 * location, where the Cache API (L1) is one data centre's.
 *
 * One command per request (`enableAutoPipelining: false`): auto-pipelining batches the commands
 * of one tick into one shared promise, which on workerd would make one request await another's
 * I/O. Web-standard: the `@upstash/redis/cloudflare` build is fetch only (workerd and Node alike).
 */
export class UpstashAnswerStore implements AnswerStore {
  readonly name = 'upstash';
  private readonly redis: Redis;
  private readonly timeoutMs: number;
  private readonly prefix: string;

  constructor(options: UpstashAnswerStoreOptions) {
    this.timeoutMs = options.timeoutMs ?? 500;
    this.redis = new Redis({
      url: options.url,
      token: options.token,
      enableAutoPipelining: false,
      automaticDeserialization: true,
      // A cache fails fast: no retries (the client's default is 5, with backoff), and each command
      // really aborted at the deadline (a fresh signal per command).
      retry: { retries: 0 },
      signal: () => AbortSignal.timeout(this.timeoutMs),
    });
    this.prefix = options.prefix ?? 'stratus:cache:';
  }

  async get(key: string): Promise<CachedAnswer | null> {
    const value = await this.bounded('GET', this.redis.get<unknown>(this.prefix + key));
    return value === null || value === undefined ? null : decodeAnswer(value);
  }

  async put(key: string, answer: CachedAnswer): Promise<void> {
    await this.bounded('SET', this.redis.set(this.prefix + key, encodeAnswer(answer), { ex: lifetimeSeconds(answer) }));
  }

  /** The command's result, or a rejection once `timeoutMs` has passed, whatever the client does meanwhile. */
  private bounded<T>(command: string, work: Promise<T>): Promise<T> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`Upstash ${command} did not answer within ${this.timeoutMs} ms`)), this.timeoutMs);
    });
    return Promise.race([work, deadline]).finally(() => clearTimeout(timer));
  }
}
