import { checkTargets, weightOf, type LoadBalancer, type Target } from './load-balancer';

export interface LeastOutstandingOptions {
  /**
   * Distinct targets sampled per pick; the least loaded of them wins. 2 is "the power of two
   * choices"; a value at or above the target count compares every target, ties going to a random
   * one of the least loaded. Default 2.
   */
  choices?: number;
  /** Uniform in [0, 1); passed in so tests can pin it. Default Math.random. */
  random?: () => number;
}

/**
 * Least outstanding requests with the power of two choices (Mitzenmacher, "The Power of Two
 * Choices in Randomized Load Balancing", 2001), as Envoy's LEAST_REQUEST balancer does it: sample
 * `choices` distinct targets at random and send the request to the one with the fewest requests
 * in flight. Sampling instead of scanning means a tie does not always go to the first target, and
 * many isolates, each with its own counts, do not all pile onto the same momentarily idle origin.
 * With unequal weights the sampled targets are compared by Envoy's weighted load,
 * (outstanding + 1) / weight (its active_request_bias of 1), so a weight-2 origin is given about
 * twice the requests in flight of a weight-1 one.
 *
 * Counts are per isolate and kept by the caller: onStart(target) when the request is sent,
 * onFinish(target) once when it ends, whether it succeeded, failed or was aborted (a `finally`).
 */
export class LeastOutstanding<T extends Target> implements LoadBalancer<T> {
  private readonly targets: readonly T[];
  private readonly weights: readonly number[];
  private readonly counts: number[];
  private readonly indexByName: ReadonlyMap<string, number>;
  /** Always a permutation of the indices; each pick shuffles its first `choices` slots (partial Fisher–Yates). */
  private readonly order: number[];
  private readonly choices: number;
  private readonly random: () => number;

  constructor(targets: readonly T[], options: LeastOutstandingOptions = {}) {
    checkTargets('LeastOutstanding', targets);
    const choices = options.choices ?? 2;
    if (!Number.isInteger(choices) || choices < 1) throw new RangeError(`LeastOutstanding: choices must be a positive integer, got ${choices}`);
    this.targets = [...targets];
    this.weights = targets.map(weightOf);
    this.counts = targets.map(() => 0);
    this.indexByName = new Map(targets.map((target, index) => [target.name, index]));
    this.order = targets.map((_, index) => index);
    this.choices = Math.min(choices, targets.length);
    this.random = options.random ?? Math.random;
  }

  pick(): T {
    const n = this.order.length;
    let best = -1;
    for (let slot = 0; slot < this.choices; slot++) {
      const swap = slot + Math.min(n - slot - 1, Math.floor(this.random() * (n - slot)));
      const candidate = this.order[swap]!;
      this.order[swap] = this.order[slot]!;
      this.order[slot] = candidate;
      if (best === -1 || this.lessLoaded(candidate, best)) best = candidate;
    }
    return this.targets[best]!;
  }

  onStart(target: T): void {
    const index = this.indexByName.get(target.name);
    if (index !== undefined) this.counts[index]!++;
  }

  /**
   * A finish for a target this balancer does not hold (one from before the route table changed)
   * is ignored, and a count never goes below zero: an extra finish must not make an origin look
   * idler than idle, and a hook in a `finally` should not throw.
   */
  onFinish(target: T): void {
    const index = this.indexByName.get(target.name);
    if (index !== undefined && this.counts[index]! > 0) this.counts[index]!--;
  }

  /** Requests in flight to the target of that name, as this balancer has been told. */
  outstanding(name: string): number {
    const index = this.indexByName.get(name);
    return index === undefined ? 0 : this.counts[index]!;
  }

  /** (countA + 1) / weightA < (countB + 1) / weightB, cross-multiplied to stay in integers. */
  private lessLoaded(a: number, b: number): boolean {
    return (this.counts[a]! + 1) * this.weights[b]! < (this.counts[b]! + 1) * this.weights[a]!;
  }
}
