import { DurableObject } from 'cloudflare:workers';
import { limiterStep, type LimiterState } from '../../../shared/ratelimit/limiter';
import { decisionOf, type RateLimitDecision, type RateLimitPolicy } from '../../../shared/ratelimit/policy';
import type { GatewayBindings } from '../env';

/**
 * One rate-limit key of one route (named `<route>|<key>`, e.g. `catalog|ip:203.0.113.7`): the
 * gateway's default backend. A thin shell around the pure algorithms in shared/ratelimit/.
 *
 * Exact: `decide` runs the algorithm and stores its state before its first (and only) await, and
 * a Durable Object runs one call at a time up to an await, so concurrent requests for one key from
 * every isolate and location are decided one after another against the same state: a limit of 50
 * admits 50, never 51.
 *
 * State lives in memory only; writing it to storage on every request would add a storage write to
 * every rate-limited call. The cost of that: when the object is evicted (idle for a while, a
 * deploy, a restart) the key starts again with a fresh, full bucket or an empty window. That is
 * lenient, never stricter: an eviction can let one more burst through, it can never refuse a
 * request the limit allows. An object is only evicted after sitting idle, by which time a short
 * window has mostly refilled anyway; a long window (hours) would want persisted state.
 *
 * The policy comes with each call (the route table is the gateway's), so a deploy that changes a
 * route's limit reaches every key at once; state made under other numbers is dropped.
 */
export class RateLimiter extends DurableObject<GatewayBindings> {
  private state: LimiterState | undefined;

  async decide(policy: RateLimitPolicy, cost = 1): Promise<RateLimitDecision> {
    const step = limiterStep(policy, this.state, Date.now(), cost);
    this.state = step.state;
    return decisionOf(step);
  }
}
