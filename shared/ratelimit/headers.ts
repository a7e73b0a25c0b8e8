import type { RateLimitDecision, RateLimitPolicy } from './policy';

/**
 * The RateLimit header fields of draft-ietf-httpapi-ratelimit-headers-10 (September 2025; the
 * text read from the working group's repository): two Structured Field Lists (RFC 9651) whose
 * items are a policy name, which -10 says MUST be an sf-string, with parameters. (Drafts up to -07
 * used other syntaxes, e.g. -07's `RateLimit: limit=, remaining=, reset=`; -11 of May 2026 is out
 * and was not checked field by field.)
 *
 *   RateLimit-Policy: "catalog";q=100;w=10     quota q per window w (integer seconds, > 0)
 *   RateLimit: "catalog";r=42;t=3              r quota units remaining; t seconds until
 *                                              additional quota is made available
 *
 * `t` is the decision's reset, except when nothing remains: then it is the time until a request
 * would be admitted again, the same number as `Retry-After`, so the two never disagree.
 * The optional `pk` (partition key) parameter is not sent: it would echo the caller's key.
 */

export const RATELIMIT_POLICY_HEADER = 'RateLimit-Policy';
export const RATELIMIT_HEADER = 'RateLimit';

/** An sf-string: printable ASCII in double quotes, `"` and `\` escaped (RFC 9651 §3.3.3). */
export function sfString(value: string): string {
  const printable = value.replace(/[^\x20-\x7e]/g, '?');
  return `"${printable.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

/** The window as the draft wants it: a positive integer number of seconds. */
export const windowSeconds = (policy: RateLimitPolicy): number => Math.max(1, Math.ceil(policy.windowMs / 1000));

/** `Retry-After` for a refused request: whole seconds, at least 1 (RFC 9110 §10.2.3). */
export function retryAfterSeconds(policy: RateLimitPolicy, decision: RateLimitDecision): number {
  if (!Number.isFinite(decision.retryAfterMs)) return windowSeconds(policy);
  return Math.max(1, Math.ceil(decision.retryAfterMs / 1000));
}

export function rateLimitPolicyHeader(name: string, policy: RateLimitPolicy): string {
  return `${sfString(name)};q=${policy.limit};w=${windowSeconds(policy)}`;
}

export function rateLimitHeader(name: string, policy: RateLimitPolicy, decision: RateLimitDecision): string {
  const remaining = Math.max(0, Math.floor(decision.remaining));
  const t = remaining > 0 ? Math.max(0, Math.ceil(decision.resetMs / 1000)) : retryAfterSeconds(policy, decision);
  return `${sfString(name)};r=${remaining};t=${t}`;
}

/** Both fields for one policy and decision. */
export function rateLimitHeaders(name: string, policy: RateLimitPolicy, decision: RateLimitDecision): Record<string, string> {
  return { [RATELIMIT_POLICY_HEADER]: rateLimitPolicyHeader(name, policy), [RATELIMIT_HEADER]: rateLimitHeader(name, policy, decision) };
}
