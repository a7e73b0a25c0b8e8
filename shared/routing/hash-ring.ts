import { checkTargets, requireKey, weightOf, type LoadBalancer, type Target } from './load-balancer';
import { stableHash } from './stable-hash';

export interface HashRingOptions {
  /**
   * Virtual nodes per unit of weight. More points spread keys more evenly (a target's share
   * deviates by roughly 1/sqrt(points)) at the cost of memory and a slower build. Default 160,
   * the count libketama and nginx's `hash $key consistent` use (`npoints = weight * 160`).
   */
  replicas?: number;
}

/**
 * Consistent hashing on a ring (Karger et al., "Consistent Hashing and Random Trees", STOC 1997)
 * with virtual nodes, the libketama way: each target is hashed onto a 32-bit ring at
 * `replicas × weight` points (`stableHash("<name>#<i>")`), and a key belongs to the first point at
 * or after its own hash, wrapping past 2^32. Adding a target only takes over the arcs in front of
 * its new points, so the only keys that move are those that go to it (about 1/n of them); removing
 * one hands only its own keys to its neighbours. Points depend on names alone, not on the order
 * targets are given in, so every isolate builds the same ring from the same route table.
 */
export class HashRing<T extends Target> implements LoadBalancer<T> {
  private readonly targets: readonly T[];
  /** Point positions, ascending; `owners[i]` is the index of the target at `points[i]`. */
  private readonly points: Uint32Array;
  private readonly owners: Uint32Array;

  constructor(targets: readonly T[], options: HashRingOptions = {}) {
    checkTargets('HashRing', targets);
    const replicas = options.replicas ?? 160;
    if (!Number.isInteger(replicas) || replicas < 1) throw new RangeError(`HashRing: replicas must be a positive integer, got ${replicas}`);
    this.targets = [...targets];
    const ring: { position: number; owner: number }[] = [];
    this.targets.forEach((target, owner) => {
      const count = replicas * weightOf(target);
      for (let i = 0; i < count; i++) ring.push({ position: stableHash(`${target.name}#${i}`), owner });
    });
    // Two targets on one point (rare: ~points²/2^33 pairs) resolve by name, not by input order.
    const names = this.targets.map((target) => target.name);
    ring.sort((a, b) => a.position - b.position || (names[a.owner]! < names[b.owner]! ? -1 : names[a.owner]! > names[b.owner]! ? 1 : 0));
    this.points = Uint32Array.from(ring, (point) => point.position);
    this.owners = Uint32Array.from(ring, (point) => point.owner);
  }

  pick(key?: string): T {
    const hash = stableHash(requireKey('HashRing', key));
    // The first point at or after the key's hash (binary search); none means wrap to the first.
    let low = 0;
    let high = this.points.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if (this.points[mid]! < hash) low = mid + 1;
      else high = mid;
    }
    return this.targets[this.owners[low === this.points.length ? 0 : low]!]!;
  }
}
