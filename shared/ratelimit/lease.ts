import { limiterStep, type LimiterState } from './limiter';
import { assertPolicy, type RateLimitPolicy } from './policy';

/**
 * Leases: a key's allowance handed out in slices, so an isolate decides most requests itself.
 *
 * Why: the exact backend (a RateLimiter Durable Object per key) lives in one place; asking it per
 * request costs a round trip from every other location, and a flood on one key queues on that
 * one object until decisions miss their deadline. With leases the object is asked for a slice of
 * what the key may still spend (`want` units); it counts the slice as spent at once, exactly as if
 * that many requests had arrived, and the isolate then spends it locally, with no call.
 *
 * Never more than the limit (sliding window): a slice is counted in the object's current fixed
 * window and may be spent only until that window ends (`validForMs`, measured from the moment
 * the isolate *sent* its request, so the isolate's deadline falls no later than the object's,
 * whatever the two clocks read). So every request admitted in a fixed window was counted in that
 * window before it was admitted; the previous window's weight only falls as time passes; hence
 * the requests actually admitted are a schedule the exact algorithm admits in full (the property
 * test replays them through it). Units given back (`giveBack`) are subtracted once (messages carry
 * the lease's running total), only for a lease the object still knows, and only what the isolate
 * had not spent and will never spend.
 *
 * Token bucket: a slice spent later than it was counted could meet a refill that another isolate
 * was already granted, so a token-bucket slice is valid for no time at all: it is exactly the
 * requests waiting when it arrives (one call answers all of them; none is held).
 *
 * What is lost (under-admission): units leased and not spent before the window ends, at most the
 * sum of the isolates' outstanding slices. Each slice is at most half of what remained
 * (`LEASE_SHARE`), so a second isolate always finds some, and at most what the isolate expects to
 * spend soon (its own sizing); a slice an isolate stops needing is given back.
 *
 * Restarts: the object persists its limiter state (the counts) before its answer leaves (a
 * Durable Object's output gate), so a restarted object still counts every slice it granted. The
 * table of outstanding leases is memory only: after a restart a give-back is ignored (more lost,
 * never more admitted); lease ids carry a per-instance prefix so an old id is never mistaken for
 * a new lease.
 */

/** A slice is at most this fraction of what the key could still admit (rounded up). */
export const LEASE_SHARE = 0.5;

export interface LeaseGrant {
  /** Identifies the lease for `giveBack`; empty when nothing was granted. */
  leaseId: string;
  /** Units granted (0: refused). */
  units: number;
  /** How long after it asked the isolate may spend them (0: only for the requests waiting now). */
  validForMs: number;
  limit: number;
  /** What the key could still admit after this grant, as the object counts. */
  remaining: number;
  /** Until more quota is made available (the limiter's `resetMs`), from the grant. */
  resetMs: number;
  /** Until one more unit would be granted, from the grant (0: now). */
  retryAfterMs: number;
}

/** What the object keeps: the limiter's state (persisted) and the leases it may take back (memory). */
export interface LeaseLedger {
  limiter: LimiterState | undefined;
  /** Outstanding sliding-window leases: their fixed window, units granted, and units given back so far. */
  leases: Map<string, { window: number; units: number; returned: number }>;
}

export const emptyLedger = (limiter?: LimiterState): LeaseLedger => ({ limiter, leases: new Map() });

/**
 * Grants up to `want` units now (at least 1 when any remain, at most `LEASE_SHARE` of what
 * remains for a sliding window; all of `want` that fits for a token bucket, spent at once).
 * Mutates the ledger; `newId` names the lease. `want` 0 only looks: nothing is granted or counted,
 * `remaining` says what could be.
 */
export function grantLease(policy: RateLimitPolicy, ledger: LeaseLedger, now: number, want: number, newId: () => string): LeaseGrant {
  assertPolicy(policy);
  // What the key could admit now, without counting anything.
  const peek = limiterStep(policy, ledger.limiter, now, 0);
  const available = peek.remaining;
  if (want === 0) {
    // A look, no slice: what remains, and when one more would be admitted.
    const one = limiterStep(policy, ledger.limiter, now, 1);
    return { leaseId: '', units: 0, validForMs: 0, limit: policy.limit, remaining: available, resetMs: peek.resetMs, retryAfterMs: one.allowed ? 0 : one.retryAfterMs };
  }
  const asked = Math.max(1, Math.min(policy.limit, Math.floor(want)));
  const share = policy.algorithm === 'sliding-window' ? Math.ceil(available * LEASE_SHARE) : available;
  const units = Math.min(asked, share);
  if (units < 1) {
    const refused = limiterStep(policy, ledger.limiter, now, 1);
    ledger.limiter = refused.state;
    return { leaseId: '', units: 0, validForMs: 0, limit: policy.limit, remaining: 0, resetMs: refused.resetMs, retryAfterMs: refused.retryAfterMs };
  }
  const step = limiterStep(policy, ledger.limiter, now, units);
  if (!step.allowed) throw new Error('a lease the limiter did not admit'); // cannot happen: units ≤ remaining
  ledger.limiter = step.state;
  const next = limiterStep(policy, step.state, now, 1);
  let leaseId = '';
  let validForMs = 0;
  if (policy.algorithm === 'sliding-window' && step.state.algorithm === 'sliding-window') {
    leaseId = newId();
    const { window } = step.state.state;
    ledger.leases.set(leaseId, { window, units, returned: 0 });
    for (const [id, lease] of ledger.leases) if (lease.window < window - 1) ledger.leases.delete(id);
    // Until the fixed window ends (the step's reset, which already allows for a clock that went back).
    validForMs = step.resetMs;
  }
  return { leaseId, units, validForMs, limit: policy.limit, remaining: step.remaining, resetMs: step.resetMs, retryAfterMs: next.allowed ? 0 : next.retryAfterMs };
}

/**
 * Takes back units of a lease its isolate will never spend. `total` is how many of the lease the
 * isolate has given back *in all* so far (not this time): a repeated, late or reordered message
 * then subtracts nothing twice. Subtracted from the window the lease was counted in (the current
 * one or the one before); an unknown lease (e.g. from before a restart) is ignored.
 */
export function giveBack(policy: RateLimitPolicy, ledger: LeaseLedger, now: number, leaseId: string, total: number): void {
  const lease = ledger.leases.get(leaseId);
  if (!lease || !Number.isSafeInteger(total)) return;
  const back = Math.min(total, lease.units) - lease.returned;
  if (back < 1) return;
  lease.returned += back;
  // Bring the state up to `now` first (a cost-0 step), so the window indices are current.
  const current = limiterStep(policy, ledger.limiter, now, 0).state;
  if (current.algorithm !== 'sliding-window') return;
  const state = { ...current.state };
  if (lease.window === state.window) state.current = Math.max(0, state.current - back);
  else if (lease.window === state.window - 1) state.previous = Math.max(0, state.previous - back);
  else return;
  ledger.limiter = { ...current, state };
}
