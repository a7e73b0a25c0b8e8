import { HashRing } from './hash-ring';
import { LeastOutstanding } from './least-outstanding';
import type { LoadBalancer, Target } from './load-balancer';
import { Rendezvous } from './rendezvous';
import { RoundRobin } from './round-robin';
import { SmoothWeightedRoundRobin } from './smooth-weighted-round-robin';

/**
 * The balancers of this folder by the name a route table gives them (an origin pool's
 * `balancer`): configuration names one, this builds it. The hashing ones need a key per pick
 * (a user id, a cookie, an address); the others ignore it.
 */
export const BALANCER_KINDS = ['round-robin', 'smooth-weighted', 'least-outstanding', 'consistent-hash', 'rendezvous'] as const;
export type BalancerKind = (typeof BALANCER_KINDS)[number];

/** Whether the balancer hashes a key, so one key keeps reaching one target. */
export const isHashing = (kind: BalancerKind): boolean => kind === 'consistent-hash' || kind === 'rendezvous';

export interface BalancerOptions {
  /** Uniform in [0, 1): the round robin's start and the least-outstanding sampling. Default Math.random. */
  random?: () => number;
}

/** A balancer of `kind` over `targets` (checked by the balancer: names unique, weights positive integers). */
export function createBalancer<T extends Target>(kind: BalancerKind, targets: readonly T[], options: BalancerOptions = {}): LoadBalancer<T> {
  const random = options.random ?? Math.random;
  switch (kind) {
    case 'round-robin':
      // A random start per isolate, so fresh isolates do not all send their first request to one origin.
      return new RoundRobin(targets, { start: Math.floor(random() * targets.length) });
    case 'smooth-weighted':
      return new SmoothWeightedRoundRobin(targets);
    case 'least-outstanding':
      return new LeastOutstanding(targets, { random });
    case 'consistent-hash':
      return new HashRing(targets);
    case 'rendezvous':
      return new Rendezvous(targets);
  }
}
