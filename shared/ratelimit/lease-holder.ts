import type { LeaseGrant } from './lease';
import type { RateLimitDecision, RateLimitPolicy } from './policy';

/**
 * One isolate's share of one key (lease.ts says why and what it guarantees): the leases it holds,
 * what it learnt from the object's last answer, and how busy the key is here. Pure: time is
 * passed in; the asking, waiting and giving back are the backend's (leased-backend.ts).
 */

/** What `take` decided: admitted or refused here, or the object must be asked first. */
export type Take = { kind: 'admit'; decision: RateLimitDecision } | { kind: 'refuse'; decision: RateLimitDecision } | { kind: 'ask' };

interface HeldLease {
  id: string;
  left: number;
  /** Units of it given back so far: give-backs carry this running total (lease.ts `giveBack`). */
  returned: number;
  /** Spendable while `now < until` (this isolate's clock). */
  until: number;
}

export interface LeaseHolderOptions {
  /** A slice aims to cover this long of the key's demand in this isolate. Default 1000 ms. */
  horizonMs?: number;
  /** Taken off every lease's end, for a clock read a little late (workerd's advances at I/O). Default 20 ms. */
  clockMarginMs?: number;
}

export class LeaseHolder {
  private leases: HeldLease[] = [];
  /** From the last answer: what the object could still admit, and when, in this isolate's clock. */
  private authorityRemaining = 0;
  private resetAt = 0;
  private retryAt = 0;
  /** Refused here, with no call, until then: the object said nothing is admitted before it. */
  private refusedUntil = 0;
  /** Units asked for in the current and the previous horizon: how hot the key is here. */
  private bucketStart = 0;
  private current = 0;
  private previous = 0;
  private lastArrival = Number.NEGATIVE_INFINITY;
  /** The size of the last slice granted (renewal starts when a quarter of it is left). */
  private lastGrant = 0;
  private readonly horizonMs: number;
  private readonly marginMs: number;

  constructor(
    readonly policy: RateLimitPolicy,
    options: LeaseHolderOptions = {},
  ) {
    this.horizonMs = options.horizonMs ?? 1_000;
    this.marginMs = options.clockMarginMs ?? 20;
  }

  /**
   * Units of leases that ended unspent: the object counted them in a window that is now over,
   * where they would still weigh on the sliding window; the next request for a slice gives them
   * back (lease.ts `giveBack`), so a single isolate loses nothing at a window's end.
   */
  private ended: { leaseId: string; units: number }[] = [];

  /** Units spendable now. */
  held(now: number): number {
    if (this.leases.some((lease) => lease.left === 0 || now >= lease.until)) {
      for (const lease of this.leases) if (lease.id && lease.left > 0 && now >= lease.until) this.ended.push({ leaseId: lease.id, units: lease.returned + lease.left });
      this.leases = this.leases.filter((lease) => lease.left > 0 && now < lease.until);
    }
    return this.leases.reduce((sum, lease) => sum + lease.left, 0);
  }

  /** The ended leases' give-backs (running totals), to send with the next request (taken once). */
  takeEnded(): { leaseId: string; units: number }[] {
    const ended = this.ended;
    this.ended = [];
    return ended;
  }

  /** Counts an arrival of `cost` for sizing (once per request, not per retry of `take`). */
  arrive(now: number, cost: number): void {
    if (now - this.bucketStart >= 2 * this.horizonMs) {
      this.previous = 0;
      this.current = 0;
      this.bucketStart = now;
    } else if (now - this.bucketStart >= this.horizonMs) {
      this.previous = this.current;
      this.current = 0;
      this.bucketStart += this.horizonMs;
    }
    this.current += cost;
    this.lastArrival = now;
  }

  /** Admits from a lease, refuses from the last refusal, or says the object must be asked. */
  take(now: number, cost: number): Take {
    if (cost > this.policy.limit) return { kind: 'refuse', decision: this.refusal(now, Number.POSITIVE_INFINITY) };
    if (this.held(now) >= cost) {
      let due = cost;
      for (const lease of this.leases) {
        const spent = Math.min(due, lease.left);
        lease.left -= spent;
        due -= spent;
        if (due === 0) break;
      }
      return { kind: 'admit', decision: this.admitted(now) };
    }
    if (now < this.refusedUntil) return { kind: 'refuse', decision: this.refusal(now, this.refusedUntil - now) };
    return { kind: 'ask' };
  }

  /** Whether one more would be admitted, spending nothing: from what is held, the last refusal, else ask. */
  look(now: number): Take {
    if (this.held(now) > 0) return { kind: 'admit', decision: this.admitted(now) };
    if (now < this.refusedUntil) return { kind: 'refuse', decision: this.refusal(now, this.refusedUntil - now) };
    return { kind: 'ask' };
  }

  /** How many units to ask for: those waiting now plus, for a sliding window, the recent demand. */
  want(waiting: number): number {
    const expected = this.policy.algorithm === 'sliding-window' ? Math.max(this.current, this.previous) : 0;
    return Math.max(1, Math.min(this.policy.limit, waiting + expected));
  }

  /** Whether to ask for the next slice before this one runs out (sliding window only). */
  shouldRenew(now: number): boolean {
    if (this.policy.algorithm !== 'sliding-window' || this.lastGrant < 4) return false;
    return this.held(now) <= this.lastGrant / 4 && now >= this.refusedUntil;
  }

  /** Records an answer to a request sent at `sentAt` (this isolate's clock), received at `now`. */
  granted(grant: LeaseGrant, sentAt: number, now: number): void {
    this.authorityRemaining = grant.remaining;
    this.resetAt = sentAt + grant.resetMs;
    this.retryAt = sentAt + grant.retryAfterMs;
    if (grant.units < 1) {
      // Nothing is admitted before then (a give-back elsewhere could free some sooner: stricter
      // for that long, never more lenient). From `sentAt`: the object's clock read later.
      // (No units but some remaining: the answer to a look, which changes nothing.)
      if (grant.remaining < 1) this.refusedUntil = Math.max(this.refusedUntil, sentAt + Math.max(1, grant.retryAfterMs));
      return;
    }
    this.refusedUntil = 0;
    this.lastGrant = grant.units;
    // A sliding-window slice until its window ends (from when the request left, less a margin);
    // a token-bucket one only for the requests waiting right now.
    const until = grant.validForMs > 0 ? sentAt + grant.validForMs - this.marginMs : now + 1;
    if (until > now) this.leases.push({ id: grant.leaseId, left: grant.units, until, returned: 0 });
    else if (grant.leaseId) this.ended.push({ leaseId: grant.leaseId, units: grant.units }); // arrived too late to spend
  }

  /**
   * After a quiet spell (nothing for a horizon), units beyond what the key now needs here go
   * back: removed from this isolate first, so they are never spent after the object takes them.
   * `units` in the answer is the lease's running total given back, as `giveBack` wants it.
   */
  surplus(now: number): { leaseId: string; units: number } | undefined {
    if (now - this.lastArrival < this.horizonMs) return undefined;
    const keep = this.want(0);
    const last = this.leases.at(-1);
    const extra = this.held(now) - keep;
    if (!last || !last.id || extra < 1) return undefined;
    const units = Math.min(extra, last.left);
    last.left -= units;
    last.returned += units;
    return { leaseId: last.id, units: last.returned };
  }

  /** Everything held, given up (the holder is being dropped): what to give back, per lease. */
  release(now: number): { leaseId: string; units: number }[] {
    this.held(now);
    const back = [...this.takeEnded(), ...this.leases.filter((lease) => lease.id).map((lease) => ({ leaseId: lease.id, units: lease.returned + lease.left }))];
    this.leases = [];
    return back;
  }

  private admitted(now: number): RateLimitDecision {
    const remaining = Math.min(this.policy.limit, this.authorityRemaining + this.held(now));
    return {
      allowed: true,
      limit: this.policy.limit,
      remaining,
      resetMs: Math.max(0, this.resetAt - now),
      retryAfterMs: remaining > 0 ? 0 : Math.max(0, this.retryAt - now),
    };
  }

  private refusal(now: number, retryAfterMs: number): RateLimitDecision {
    return { allowed: false, limit: this.policy.limit, remaining: 0, resetMs: Math.max(0, this.resetAt - now), retryAfterMs };
  }
}
