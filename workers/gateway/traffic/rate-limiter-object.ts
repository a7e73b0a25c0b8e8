import { DurableObject } from 'cloudflare:workers';
import { emptyLedger, giveBack, grantLease, type LeaseGrant, type LeaseLedger } from '../../../shared/ratelimit/lease';
import { limiterStep, type LimiterState } from '../../../shared/ratelimit/limiter';
import { decisionOf, type RateLimitDecision, type RateLimitPolicy } from '../../../shared/ratelimit/policy';
import type { GatewayBindings } from '../env';

const STATE_KEY = 'limiter';

/**
 * One rate-limit key of one route (named `<route>|<key>`, e.g. `catalog|ip:203.0.113.7`): the
 * authority of the gateway's default backend. A thin shell around the pure algorithms and the
 * lease ledger in shared/ratelimit/ (lease.ts says how slices keep every isolate together within
 * the limit).
 *
 * Exact: each call runs the algorithm and records its state before its first (and only) await,
 * and a Durable Object runs one call at a time up to an await, so concurrent calls for one key
 * from every isolate and location are decided one after another against the same state.
 *
 * Persisted: a slice can be a large part of the limit, so an object that forgot its counts on a
 * restart (eviction, deploy) could grant the whole limit again while the old slices are still
 * being spent. The limiter state is written on every change, without awaiting: the output gate
 * holds the answer until the write is durable, so no isolate ever spends a slice the storage
 * does not know about. That is one small write per slice, not per request. The lease table (for
 * give-backs) stays in memory: after a restart a give-back is ignored (less admitted, never more).
 *
 * Retention: the state matters for two windows at most (a sliding window looks one back; a token
 * bucket is full again after one), so an alarm deletes it once the key has been quiet that long.
 *
 * The policy comes with each call (the route table is the gateway's), so a deploy that changes a
 * route's limit reaches every key at once; state made under other numbers is dropped.
 */
export class RateLimiter extends DurableObject<GatewayBindings> {
  private ledger: LeaseLedger = emptyLedger();
  /** Names this instance's leases: an id from before a restart never matches a new lease. */
  private readonly incarnation = crypto.randomUUID().slice(0, 8);
  private nextLease = 0;
  private lastChange = 0;
  private alarmAt: number | null = null;

  constructor(ctx: DurableObjectState, env: GatewayBindings) {
    super(ctx, env);
    void ctx.blockConcurrencyWhile(async () => {
      this.ledger = emptyLedger(await ctx.storage.get<LimiterState>(STATE_KEY));
      this.alarmAt = await ctx.storage.getAlarm();
    });
  }

  /** One request of `cost` (0: a look that counts nothing). */
  async decide(policy: RateLimitPolicy, cost = 1): Promise<RateLimitDecision> {
    const now = Date.now();
    const step = limiterStep(policy, this.ledger.limiter, now, cost);
    if (cost > 0) this.record(step.state, policy, now);
    else this.ledger.limiter = step.state;
    const decision = decisionOf(step);
    return cost === 0 ? { ...decision, allowed: step.remaining >= 1 } : decision;
  }

  /** A slice of up to `want` units (0: a look) for an isolate to spend (lease.ts), after taking back its ended leases' unspent units. */
  async lease(policy: RateLimitPolicy, want: number, giveBacks: { leaseId: string; units: number }[] = []): Promise<LeaseGrant> {
    const now = Date.now();
    for (const back of giveBacks.slice(0, 64)) giveBack(policy, this.ledger, now, back.leaseId, back.units);
    const grant = grantLease(policy, this.ledger, now, want, () => `${this.incarnation}.${this.nextLease++}`);
    if (grant.units > 0 || giveBacks.length) this.record(this.ledger.limiter, policy, now);
    return grant;
  }

  /** Units of a lease its isolate will never spend. */
  async giveBack(policy: RateLimitPolicy, leaseId: string, units: number): Promise<void> {
    const now = Date.now();
    const before = this.ledger.limiter;
    giveBack(policy, this.ledger, now, leaseId, units);
    if (this.ledger.limiter !== before) this.record(this.ledger.limiter, policy, now);
  }

  override async alarm(): Promise<void> {
    this.alarmAt = null;
    const quietFor = Date.now() - this.lastChange;
    const keepFor = this.keepForMs();
    if (this.lastChange === 0 || quietFor >= keepFor) {
      this.ledger = emptyLedger();
      await this.ctx.storage.deleteAll();
      return;
    }
    this.alarmAt = this.lastChange + keepFor;
    await this.ctx.storage.setAlarm(this.alarmAt);
  }

  private windowMs = 0;
  private keepForMs(): number {
    return 2 * Math.max(1, this.windowMs);
  }

  private record(state: LimiterState | undefined, policy: RateLimitPolicy, now: number): void {
    this.ledger.limiter = state;
    this.lastChange = now;
    this.windowMs = policy.windowMs;
    if (!state) return;
    // Not awaited: the output gate holds this call's answer until the write is durable.
    void this.ctx.storage.put(STATE_KEY, state);
    // At most one alarm write per window: re-armed only when it would fire within a window.
    const due = now + this.keepForMs();
    if (this.alarmAt === null || this.alarmAt < now + policy.windowMs) {
      this.alarmAt = due;
      void this.ctx.storage.setAlarm(due);
    }
  }
}
