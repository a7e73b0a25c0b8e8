import { checkTargets, requireKey, weightOf, type LoadBalancer, type Target } from './load-balancer';
import { murmur3x86_32, stableHash } from './stable-hash';

const utf8 = new TextEncoder();
const TWO_TO_32 = 2 ** 32;

/**
 * Rendezvous, or highest random weight, hashing (Thaler & Ravishankar, "Using Name-Based Mappings
 * to Increase Hit Rates", IEEE/ACM ToN 1998): every target scores the key with its own seeded
 * hash and the best score wins. A target's score for a key does not depend on the other targets,
 * so adding one moves exactly the keys it now wins (about 1/(n+1) of them), and removing one moves
 * only the keys it was winning. No ring to build and no virtual nodes; a pick costs one hash per
 * target, fine for the handful of origins a route has.
 *
 * Weights follow the logarithmic method (Schindelhauer & Schomaker, "Weighted Distributed Hash
 * Tables", SPAA 2005; Ceph's straw2 buckets do the same): score = -ln(u) / weight for the hash
 * mapped to u in (0, 1), lowest wins. That gives each target weight / Σweight of the keys (in
 * expectation), and changing one target's weight moves keys only to or from that target. With
 * equal weights the order is the hashes' own, so they are compared as integers and a pick is
 * bit-for-bit the same on every runtime; with unequal weights it rests on Math.log, whose last bit
 * engines may round differently (moot in a gateway, where every isolate runs V8). Ties go to the
 * smaller name.
 */
export class Rendezvous<T extends Target> implements LoadBalancer<T> {
  /** Sorted by name, so a tie is decided by name and the input order never matters. */
  private readonly targets: readonly T[];
  private readonly seeds: Uint32Array;
  private readonly weights: readonly number[];
  private readonly equalWeights: boolean;

  constructor(targets: readonly T[]) {
    checkTargets('Rendezvous', targets);
    this.targets = [...targets].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    this.seeds = Uint32Array.from(this.targets, (target) => stableHash(target.name));
    this.weights = this.targets.map(weightOf);
    this.equalWeights = this.weights.every((weight) => weight === this.weights[0]);
  }

  pick(key?: string): T {
    const bytes = utf8.encode(requireKey('Rendezvous', key));
    let best = 0;
    let bestScore = Number.NaN;
    for (let i = 0; i < this.targets.length; i++) {
      const hash = murmur3x86_32(bytes, this.seeds[i]!);
      // Highest hash wins with equal weights; otherwise lowest -ln(u)/w (u never 0 or 1, so finite).
      const score = this.equalWeights ? -hash : -Math.log((hash + 0.5) / TWO_TO_32) / this.weights[i]!;
      if (i === 0 || score < bestScore) {
        best = i;
        bestScore = score;
      }
    }
    return this.targets[best]!;
  }
}
