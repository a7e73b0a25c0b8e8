import { WeightedChoice, type VersionAllowLists, type VersionWeights } from './weighted-choice';

/** A route's split as stored: the weights, and the users sent to a version whatever the weights. */
export interface StoredSplit {
  weights: VersionWeights;
  allow?: VersionAllowLists;
}

/** Where a route's weights are kept for every isolate (a Durable Object, Redis); null: never set. */
export interface WeightsStore {
  get(): Promise<StoredSplit | null>;
  /**
   * Stores new weights, and new allow lists when `allow` is given (left out: the stored ones are
   * kept, so a rollout moving weights never drops them); answers what is stored now.
   */
  set(split: StoredSplit): Promise<StoredSplit>;
}

export interface CachedWeightsOptions {
  store: WeightsStore;
  /** The split until an operator sets one, and whenever what the store holds cannot be used. */
  defaults: VersionWeights;
  /** The `WeightedChoice` salt: one per route, so routes draw independent populations. */
  salt: string;
  /** How long a read is trusted before the store is asked again. */
  refreshMs: number;
  /** How long a read may take before the last weights are kept instead (default 250 ms). */
  readTimeoutMs?: number;
  /**
   * Whether stored weights may still be used (they name exactly the route's versions today; a
   * deploy may have renamed one). Refused weights are reported and the defaults are used.
   */
  accepts?: (weights: VersionWeights) => boolean;
  now?: () => number;
}

/**
 * A route's version weights as one isolate sees them, in front of a store shared by all isolates,
 * the way `CachedChaosSource` reads chaos: the store is read at most once per `refreshMs`, so
 * choosing a version costs nothing per request, and a change made anywhere reaches every isolate
 * within `refreshMs`. A change made through this isolate (`set`) is seen here at once. Reads are
 * not shared between concurrent requests: on workerd a request must not wait on I/O another
 * request started.
 *
 * A store that cannot be read does not fail requests: the last weights this isolate saw (or the
 * defaults, if it never saw any) are kept until the next attempt, one `refreshMs` later.
 */
export class CachedWeights {
  private cached: { choice: WeightedChoice; at: number } | null = null;
  private readonly now: () => number;
  private readonly defaultChoice: WeightedChoice;

  constructor(private readonly options: CachedWeightsOptions) {
    this.now = options.now ?? Date.now;
    // Built now, so defaults that could never be used fail at start, not on some request.
    this.defaultChoice = new WeightedChoice(options.defaults, options.salt);
  }

  /**
   * The current choice, read from the store when the cached one is older than `maxAgeMs`
   * (`refreshMs` by default; 0 always reads, for an operator who must see the store's value).
   * `onProblem` hears of an unreadable store or of stored weights that were refused.
   */
  async current(onProblem?: (problem: string, error?: unknown) => void, maxAgeMs = this.options.refreshMs): Promise<WeightedChoice> {
    const now = this.now();
    if (this.cached && now - this.cached.at < maxAgeMs) return this.cached.choice;
    let stored: StoredSplit | null;
    try {
      stored = await withDeadline(this.options.store.get(), this.options.readTimeoutMs ?? 250);
    } catch (error) {
      onProblem?.('weights unreadable; keeping the last ones seen', error);
      const choice = this.cached?.choice ?? this.defaultChoice;
      this.cached = { choice, at: this.now() };
      return choice;
    }
    let choice = this.defaultChoice;
    if (stored) {
      if (this.options.accepts && !this.options.accepts(stored.weights)) {
        onProblem?.(`stored weights ${JSON.stringify(stored.weights)} do not fit the route's versions; using the defaults`);
      } else {
        try {
          const allow = stored.allow ?? {};
          const same = this.cached && sameWeights(this.cached.choice.weights, stored.weights) && sameAllowLists(this.cached.choice.allow, allow);
          choice = same && this.cached ? this.cached.choice : new WeightedChoice(stored.weights, this.options.salt, allow);
        } catch (error) {
          onProblem?.('stored weights are not valid; using the defaults', error);
        }
      }
    }
    this.cached = { choice, at: this.now() };
    return choice;
  }

  /**
   * Stores new weights (and allow lists, when given) for every isolate, and uses them here at
   * once. Validate them first.
   */
  async set(weights: VersionWeights, allow?: VersionAllowLists): Promise<WeightedChoice> {
    // Built first, so weights that could never be used are refused before anything is stored.
    new WeightedChoice(weights, this.options.salt, allow);
    const stored = await this.options.store.set(allow === undefined ? { weights } : { weights, allow });
    const choice = new WeightedChoice(stored.weights, this.options.salt, stored.allow ?? {});
    this.cached = { choice, at: this.now() };
    return choice;
  }
}

function sameWeights(a: VersionWeights, b: VersionWeights): boolean {
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((key) => Object.hasOwn(b, key) && a[key] === b[key]);
}

function sameAllowLists(a: VersionAllowLists, b: VersionAllowLists): boolean {
  const nonEmpty = (lists: VersionAllowLists) => Object.entries(lists).filter(([, ids]) => ids.length > 0);
  const left = nonEmpty(a);
  const right = new Map(nonEmpty(b));
  return left.length === right.size && left.every(([version, ids]) => {
    const other = right.get(version);
    return other !== undefined && other.length === ids.length && ids.every((id, i) => other[i] === id);
  });
}

/**
 * The store's answer, or a rejection after `ms`: every request of a route waits on this read once
 * a refresh is due, so a slow store must cost a bounded wait (the last weights are kept).
 */
function withDeadline<T>(read: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([read, deadline]).finally(() => clearTimeout(timer));
}
