import { describe, expect, it } from 'vitest';
import { rateLimitHeader, rateLimitHeaders, rateLimitPolicyHeader, retryAfterSeconds, sfString } from '../../../shared/ratelimit/headers';
import type { RateLimitDecision, RateLimitPolicy } from '../../../shared/ratelimit/policy';

const policy: RateLimitPolicy = { algorithm: 'sliding-window', limit: 100, windowMs: 10_000 };
const decision = (fields: Partial<RateLimitDecision>): RateLimitDecision => ({ allowed: true, limit: 100, remaining: 42, resetMs: 2_500, retryAfterMs: 0, ...fields });

describe('RateLimit header fields (draft-ietf-httpapi-ratelimit-headers-10)', () => {
  it('RateLimit-Policy: "<name>";q=<limit>;w=<window seconds>', () => {
    expect(rateLimitPolicyHeader('catalog', policy)).toBe('"catalog";q=100;w=10');
    // w is a positive integer number of seconds: a sub-second window rounds up, never to 0.
    expect(rateLimitPolicyHeader('x', { ...policy, windowMs: 500 })).toBe('"x";q=100;w=1');
    expect(rateLimitPolicyHeader('x', { ...policy, windowMs: 1_500 })).toBe('"x";q=100;w=2');
  });

  it('RateLimit: "<name>";r=<remaining>;t=<seconds until more quota>, t rounded up', () => {
    expect(rateLimitHeader('catalog', policy, decision({}))).toBe('"catalog";r=42;t=3');
    expect(rateLimitHeader('catalog', policy, decision({ resetMs: 0 }))).toBe('"catalog";r=42;t=0');
  });

  it('with nothing left, t is the Retry-After: when a request would be admitted again (at least 1 s)', () => {
    const refused = decision({ allowed: false, remaining: 0, resetMs: 9_000, retryAfterMs: 1_200 });
    expect(rateLimitHeader('catalog', policy, refused)).toBe('"catalog";r=0;t=2');
    expect(retryAfterSeconds(policy, refused)).toBe(2);
    expect(retryAfterSeconds(policy, decision({ allowed: false, remaining: 0, retryAfterMs: 1 }))).toBe(1);
    expect(retryAfterSeconds(policy, decision({ allowed: false, remaining: 0, retryAfterMs: 0 }))).toBe(1);
    // Never admitted (a cost above the limit): say one window rather than Infinity.
    expect(retryAfterSeconds(policy, decision({ allowed: false, remaining: 0, retryAfterMs: Number.POSITIVE_INFINITY }))).toBe(10);
  });

  it('both fields together', () => {
    expect(rateLimitHeaders('catalog', policy, decision({}))).toEqual({ 'RateLimit-Policy': '"catalog";q=100;w=10', RateLimit: '"catalog";r=42;t=3' });
  });

  it('the policy name is an sf-string: quotes and backslashes escaped, nothing outside printable ASCII', () => {
    expect(sfString('a"b\\c')).toBe('"a\\"b\\\\c"');
    expect(sfString('café\n')).toBe('"caf??"');
  });
});
