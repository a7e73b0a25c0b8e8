import { assertPolicy, policyFingerprint, type RateLimitPolicy, type RateLimitStep } from './policy';
import { slidingWindow, type SlidingWindowState } from './sliding-window';
import { tokenBucket, type TokenBucketState } from './token-bucket';

/**
 * One key's limiter state under the policy it was made with: state from another policy (a
 * deploy changed the limit or the algorithm) is never read, the key starts afresh.
 */
export type LimiterState =
  | { policy: string; algorithm: 'token-bucket'; state: TokenBucketState }
  | { policy: string; algorithm: 'sliding-window'; state: SlidingWindowState };

/** The policy's algorithm applied to a key's state: the step every backend but Upstash runs. */
export function limiterStep(policy: RateLimitPolicy, previous: LimiterState | undefined, now: number, cost = 1): RateLimitStep<LimiterState> {
  assertPolicy(policy);
  const fingerprint = policyFingerprint(policy);
  const mine = previous?.policy === fingerprint ? previous : undefined;
  if (policy.algorithm === 'token-bucket') {
    const step = tokenBucket(policy, mine?.algorithm === 'token-bucket' ? mine.state : undefined, now, cost);
    return { ...step, state: { policy: fingerprint, algorithm: 'token-bucket', state: step.state } };
  }
  const step = slidingWindow(policy, mine?.algorithm === 'sliding-window' ? mine.state : undefined, now, cost);
  return { ...step, state: { policy: fingerprint, algorithm: 'sliding-window', state: step.state } };
}
