import { limiterStep, type LimiterState } from '../../ratelimit/limiter';
import { decisionOf, type DecideOptions, type RateLimitBackend, type RateLimitDecision, type RateLimitPolicy } from '../../ratelimit/policy';

/**
 * Rate limits in one process's memory: for a single-process gateway (Bun, Deno, Node) and for
 * tests, where it is the reference the other backends are compared with. Exact: each decision
 * is made synchronously. Keys are never forgotten; a long-running process with many keys would
 * want to drop idle ones.
 */
export class MemoryRateLimitBackend implements RateLimitBackend {
  readonly name = 'memory';
  private readonly states = new Map<string, LimiterState>();

  constructor(private readonly now: () => number = Date.now) {}

  async decide(key: string, policy: RateLimitPolicy, options: DecideOptions = {}): Promise<RateLimitDecision> {
    const cost = options.cost ?? 1;
    const step = limiterStep(policy, this.states.get(key), this.now(), cost);
    this.states.set(key, step.state);
    // A look (cost 0) says whether one more would be admitted.
    if (cost === 0) return { ...decisionOf(step), allowed: step.remaining >= 1 };
    return decisionOf(step);
  }
}
