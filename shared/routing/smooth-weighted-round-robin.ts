import { checkTargets, weightOf, type LoadBalancer, type Target } from './load-balancer';

/**
 * Smooth weighted round robin, nginx's algorithm (`ngx_http_upstream_get_peer` in
 * src/http/ngx_http_upstream_round_robin.c; nginx commit "Upstream: smooth weighted round-robin
 * balancing", 2012, whose message walks through the example below): on each pick every target's
 * `current` grows by its weight, the target with the largest `current` wins (the earliest on a
 * tie), and the winner's `current` drops by the total weight. Over any run of `total` picks each
 * target is picked exactly `weight` times, and the picks are spread out rather than bunched:
 * weights a=5, b=1, c=1 give a a b a c a a, where nginx's earlier rotation gave c b a a a a a.
 * nginx also lowers a failing peer's effective weight; here weights are fixed (the breaker and
 * retries deal with failures), so `current` is the whole state.
 */
export class SmoothWeightedRoundRobin<T extends Target> implements LoadBalancer<T> {
  private readonly targets: readonly T[];
  private readonly weights: readonly number[];
  private readonly current: number[];
  private readonly total: number;

  constructor(targets: readonly T[]) {
    checkTargets('SmoothWeightedRoundRobin', targets);
    this.targets = [...targets];
    this.weights = targets.map(weightOf);
    this.current = targets.map(() => 0);
    this.total = this.weights.reduce((sum, weight) => sum + weight, 0);
  }

  pick(): T {
    let best = 0;
    for (let i = 0; i < this.targets.length; i++) {
      this.current[i]! += this.weights[i]!;
      if (this.current[i]! > this.current[best]!) best = i;
    }
    this.current[best]! -= this.total;
    return this.targets[best]!;
  }
}
