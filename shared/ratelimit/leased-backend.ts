import type { LeaseGrant } from './lease';
import { LeaseHolder, type LeaseHolderOptions, type Take } from './lease-holder';
import { policyFingerprint, type DecideOptions, type RateLimitBackend, type RateLimitDecision, type RateLimitPolicy } from './policy';

/**
 * The exact per-key authority, asked for slices rather than per request (lease.ts): on
 * Cloudflare a RateLimiter Durable Object, reached by RPC.
 */
export interface LeaseAuthority {
  /** A slice of up to `want` units (0: a look), after taking back `giveBacks` (units of ended leases, never spent). */
  lease(policy: RateLimitPolicy, want: number, giveBacks?: { leaseId: string; units: number }[]): Promise<LeaseGrant>;
  giveBack(policy: RateLimitPolicy, leaseId: string, units: number): Promise<void>;
}

export interface LeasedBackendOptions extends LeaseHolderOptions {
  /** The authority of one key; called in the request that asks (a Durable Object stub is per request). */
  authority: (key: string) => LeaseAuthority;
  /** A request waits at most this long for a slice, then fails (the route decides open or closed). */
  deadlineMs: number;
  /** Keys remembered per isolate; the least recently used beyond it are given back and dropped. Default 10,000. */
  maxKeys?: number;
  now?: () => number;
  name?: string;
}

interface Waiter {
  cost: number;
  /** Leaves the waiter its share of the answered slice, `ask` again, or the failure; it looks for it itself. */
  wake: (outcome: Take | Error) => void;
  outcome?: Take | Error;
}

/** How often a waiter looks for its answer itself (see waitForSlice). */
const POLL_MS = 5;

interface KeyState {
  key: string;
  holder: LeaseHolder;
  /** When the one request for a slice now on its way was sent; null when none is. */
  flightSince: number | null;
  waiters: Set<Waiter>;
}

/**
 * A rate-limit backend that decides in the isolate when it can (lease.ts, lease-holder.ts):
 * - a request that finds units held is admitted with no call; one that finds the key refused
 *   (the object said when the next unit comes) is refused with no call;
 * - otherwise one request per key asks the object for a slice sized to what is waiting plus the
 *   key's recent demand here, and every other request for that key waits for it (single flight:
 *   a flood costs the object one call at a time per isolate, never one per request);
 * - a hot key asks for its next slice in the background (`waitUntil`) when a quarter of the
 *   current one is left, and gives back what it no longer needs after a quiet spell.
 *
 * No promise another request made is awaited: a waiter waits on its own promise, which the asking
 * request settles (workerd runs the continuation in the waiter's own request), and a waiter whose
 * asking request was cancelled stops waiting at its own deadline. A request on its way for longer
 * than the deadline is taken as lost, so the next arrival asks again.
 */
export class LeasedRateLimitBackend implements RateLimitBackend {
  readonly name: string;
  private readonly keys = new Map<string, KeyState>();
  private readonly now: () => number;
  private readonly maxKeys: number;

  constructor(private readonly options: LeasedBackendOptions) {
    this.name = options.name ?? 'leased';
    this.now = options.now ?? Date.now;
    this.maxKeys = options.maxKeys ?? 10_000;
  }

  /**
   * The decision itself when units held here (or a known refusal) decide it, the common case for
   * a hot key: no promise, no timer. Otherwise a promise that waits for a slice (below).
   */
  decide(key: string, policy: RateLimitPolicy, options: DecideOptions = {}): RateLimitDecision | Promise<RateLimitDecision> {
    const cost = options.cost ?? 1;
    const background = options.waitUntil ?? ((work: Promise<unknown>) => void work.catch(() => {}));
    const state = this.keyState(key, policy, background);
    const arrived = this.now();
    if (cost === 0) return this.peek(state, key, policy, arrived);
    state.holder.arrive(arrived, cost);
    const extra = state.holder.surplus(arrived);
    if (extra) background(this.options.authority(key).giveBack(policy, extra.leaseId, extra.units));
    const take = state.holder.take(arrived, cost);
    if (take.kind === 'ask') return this.decideWithSlice(state, key, policy, cost, arrived + this.options.deadlineMs, background);
    this.renewIfDue(state, key, policy, take, background);
    return take.decision;
  }

  /** A hot key asks for its next slice in the background once a quarter of the current one is left. */
  private renewIfDue(state: KeyState, key: string, policy: RateLimitPolicy, take: Take, background: (work: Promise<unknown>) => void): void {
    if (take.kind === 'admit' && state.holder.shouldRenew(this.now()) && !this.inFlight(state, this.now())) {
      background(this.ask(state, key, policy, 0).catch(() => {}));
    }
  }

  /** No units here for this request: ask the object (or wait for the ask on its way), within the deadline. */
  private async decideWithSlice(state: KeyState, key: string, policy: RateLimitPolicy, cost: number, deadline: number, background: (work: Promise<unknown>) => void): Promise<RateLimitDecision> {
    for (;;) {
      const now = this.now();
      let take = state.holder.take(now, cost);
      if (take.kind === 'ask') {
        take = this.inFlight(state, now) ? await this.waitForSlice(state, cost, deadline) : await this.withDeadline(this.ask(state, key, policy, cost), deadline);
      }
      if (take.kind === 'ask') continue;
      this.renewIfDue(state, key, policy, take, background);
      return take.decision;
    }
  }

  /** Cost 0: would one more be admitted? From what is held here, else from the object (no slice is taken). */
  private async peek(state: KeyState, key: string, policy: RateLimitPolicy, now: number): Promise<RateLimitDecision> {
    const look = state.holder.look(now);
    if (look.kind !== 'ask') return look.decision;
    const sentAt = now;
    const grant = await this.withDeadline(this.options.authority(key).lease(policy, 0), sentAt + this.options.deadlineMs);
    state.holder.granted(grant, sentAt, this.now());
    return { allowed: grant.remaining > 0, limit: grant.limit, remaining: grant.remaining, resetMs: grant.resetMs, retryAfterMs: grant.remaining > 0 ? 0 : grant.retryAfterMs };
  }

  private inFlight(state: KeyState, now: number): boolean {
    return state.flightSince !== null && now - state.flightSince < this.options.deadlineMs;
  }

  /**
   * Asks the object for a slice for `cost` (0: a renewal) plus whoever waits. When it is answered,
   * the asking request takes its share first, then each waiter in arrival order, all at once (a
   * token-bucket slice is only good for this moment); the first waiter left without asks next,
   * for everyone still waiting.
   */
  private async ask(state: KeyState, key: string, policy: RateLimitPolicy, cost: number): Promise<Take> {
    const sentAt = this.now();
    state.flightSince = sentAt;
    let failure: Error | undefined;
    let mine: Take = { kind: 'ask' };
    try {
      const waiting = [...state.waiters].reduce((sum, waiter) => sum + waiter.cost, 0);
      state.holder.held(sentAt); // moves leases that ended unspent to the give-backs
      const ended = state.holder.takeEnded();
      const grant = await this.options.authority(key).lease(policy, state.holder.want(cost + waiting), ended.length ? ended : undefined);
      const now = this.now();
      state.holder.granted(grant, sentAt, now);
      if (cost > 0) mine = state.holder.take(now, cost);
    } catch (error) {
      failure = error instanceof Error ? error : new Error(String(error));
      throw failure;
    } finally {
      if (state.flightSince === sentAt) state.flightSince = null;
      const now = this.now();
      let nextAsker = false;
      for (const waiter of [...state.waiters]) {
        if (failure) {
          state.waiters.delete(waiter);
          waiter.wake(failure);
          continue;
        }
        const take = state.holder.take(now, waiter.cost);
        // Still nothing for it: the first such waiter asks next (for itself and those still
        // waiting, who stay queued, so its slice is sized for all of them).
        if (take.kind !== 'ask' || !nextAsker) {
          state.waiters.delete(waiter);
          waiter.wake(take);
        }
        if (take.kind === 'ask') nextAsker = true;
      }
    }
    return mine;
  }

  /**
   * Waits until the slice on its way is answered, or the deadline. The asking request only leaves
   * the answer on the waiter (`wake`); the waiter finds it with a timer of its own every `POLL_MS`
   * and settles its own promise. Nothing of one request is touched from another: in workerd,
   * settling another request's promise or clearing its timer is I/O on behalf of a different
   * request, which fails that request ("Cannot perform I/O on behalf of a different request")
   * or leaves its continuation waiting until it has an event of its own.
   */
  private waitForSlice(state: KeyState, cost: number, deadline: number): Promise<Take> {
    return new Promise<Take>((resolve, reject) => {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const settle = (outcome: Take | Error) => {
        clearTimeout(timer);
        state.waiters.delete(waiter);
        if (outcome instanceof Error) reject(outcome);
        else resolve(outcome);
      };
      const waiter: Waiter = { cost, wake: (outcome) => void (waiter.outcome = outcome) };
      const look = () => {
        if (waiter.outcome) return settle(waiter.outcome);
        const left = deadline - this.now();
        if (left <= 0) return settle(new Error(`no rate-limit slice within ${this.options.deadlineMs} ms`));
        timer = setTimeout(look, Math.min(POLL_MS, left));
      };
      state.waiters.add(waiter);
      look();
    });
  }

  private withDeadline<T>(work: Promise<T>, deadline: number): Promise<T> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const expired = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no rate-limit answer within ${this.options.deadlineMs} ms`)), Math.max(0, deadline - this.now()));
    });
    return Promise.race([work, expired]).finally(() => clearTimeout(timer));
  }

  /** The key's state in this isolate (most recently used last); the oldest beyond `maxKeys` are given back. */
  private keyState(key: string, policy: RateLimitPolicy, background: (work: Promise<unknown>) => void): KeyState {
    const id = `${policyFingerprint(policy)}|${key}`;
    let state = this.keys.get(id);
    if (state) this.keys.delete(id);
    else state = { key, holder: new LeaseHolder(policy, this.options), flightSince: null, waiters: new Set() };
    this.keys.set(id, state);
    while (this.keys.size > this.maxKeys) {
      const [oldId, old] = this.keys.entries().next().value as [string, KeyState];
      this.keys.delete(oldId);
      for (const back of old.holder.release(this.now())) background(this.options.authority(old.key).giveBack(old.holder.policy, back.leaseId, back.units));
    }
    return state;
  }
}
