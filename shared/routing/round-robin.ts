import { checkTargets, type LoadBalancer, type Target } from './load-balancer';

export interface RoundRobinOptions {
  /**
   * Index of the first target to pick (taken modulo the count). Each isolate keeps its own
   * rotation, so give each a random start: otherwise every fresh isolate sends its first request
   * to the same origin.
   */
  start?: number;
}

/**
 * Plain round robin: targets in turn, in the order given, one request each. Ignores `weight`
 * (see SmoothWeightedRoundRobin for that) and the key.
 */
export class RoundRobin<T extends Target> implements LoadBalancer<T> {
  private readonly targets: readonly T[];
  private next: number;

  constructor(targets: readonly T[], options: RoundRobinOptions = {}) {
    checkTargets('RoundRobin', targets);
    const start = options.start ?? 0;
    if (!Number.isInteger(start) || start < 0) throw new RangeError(`RoundRobin: start must be a non-negative integer, got ${start}`);
    this.targets = [...targets];
    this.next = start % targets.length;
  }

  pick(): T {
    const target = this.targets[this.next]!;
    this.next = (this.next + 1) % this.targets.length;
    return target;
  }
}
