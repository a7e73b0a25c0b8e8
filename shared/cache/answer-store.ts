import type { CachedAnswer } from './cached-answer';

/**
 * Somewhere answers are kept by key: the Cache API in a data centre (L1), Redis for every
 * location (L2). Stores never judge freshness or tags (cached-answer.ts does); they keep an
 * answer at most its lifetime (TTL + stale-while-revalidate) and may drop it sooner.
 */
export interface AnswerStore {
  readonly name: string;
  /** The answer under `key`, or null. Rejects when the store could not be asked. */
  get(key: string): Promise<CachedAnswer | null>;
  put(key: string, answer: CachedAnswer): Promise<void>;
}
