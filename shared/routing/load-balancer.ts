/**
 * What every load balancer in this folder shares. A target is anything with a unique `name`
 * (an origin URL, a service binding's name, a version); the balancer hands the same object back,
 * so the caller keeps whatever else it attached. `weight`, where a strategy honours it, is a
 * positive integer share (nginx's `server ... weight=N`); absent means 1.
 */
export interface Target {
  readonly name: string;
  readonly weight?: number;
}

export interface LoadBalancer<T extends Target> {
  /**
   * The target for one request. `key` is what the hashing strategies hash (a user id, a session
   * cookie, a cache key) so the same key keeps reaching the same target; the others ignore it.
   */
  pick(key?: string): T;
  /** The request to `target` started (least outstanding counts these; others need not). */
  onStart?(target: T): void;
  /** The request to `target` ended, however it ended: success, error or abort. */
  onFinish?(target: T): void;
}

/** A target's weight, checked: absent is 1; anything but a positive integer is refused. */
export function weightOf(target: Target): number {
  const weight = target.weight ?? 1;
  if (!Number.isInteger(weight) || weight < 1) {
    throw new RangeError(`target "${target.name}": weight must be a positive integer, got ${String(target.weight)}`);
  }
  return weight;
}

/**
 * Refuses what no strategy can balance over: no targets, a nameless target, two targets with one
 * name (names identify targets in counts, hash points and logs), or a bad weight.
 * `strategy` names the balancer in the message, so a bad route table says which entry is wrong.
 */
export function checkTargets(strategy: string, targets: readonly Target[]): void {
  if (targets.length === 0) throw new RangeError(`${strategy}: needs at least one target`);
  const seen = new Set<string>();
  for (const target of targets) {
    if (typeof target.name !== 'string' || target.name === '') throw new TypeError(`${strategy}: every target needs a non-empty name`);
    if (seen.has(target.name)) throw new RangeError(`${strategy}: target name "${target.name}" appears twice`);
    seen.add(target.name);
    weightOf(target);
  }
}

/** For the hashing strategies, whose whole point is the key: without one there is nothing to be sticky to. */
export function requireKey(strategy: string, key: string | undefined): string {
  if (typeof key !== 'string') throw new TypeError(`${strategy}: pick(key) needs a key (a user id, a session cookie, a cache key)`);
  return key;
}
