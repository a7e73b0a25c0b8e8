import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { evaluateFlag, featureFlagSchema, type FeatureFlag } from '../../../shared/flags/feature-flag';
import { bucketOf } from '../../../shared/routing/stable-hash';

const SUBJECTS = Array.from({ length: 2_000 }, (_, i) => `user-${i}`);
/** Fixed seed: the rollout property measures shares of 2,000 subjects, so its runs are pinned, not flaky. */
const PINNED = { seed: 1_234_567, numRuns: 50 };

const flag = (overrides: Partial<FeatureFlag> = {}): FeatureFlag => ({ key: 'new-checkout', enabled: true, rolloutPercent: 0, ...overrides });
const onShare = (definition: FeatureFlag) => SUBJECTS.filter((subject) => evaluateFlag(definition, subject)).length / SUBJECTS.length;

/** 0 to 100 in steps of 0.01. */
const percent = fc.integer({ min: 0, max: 10_000 }).map((hundredths) => hundredths / 100);

describe('evaluateFlag', () => {
  it('is on for about rolloutPercent of subjects, within 5 points over 2,000', () => {
    fc.assert(
      fc.property(percent, fc.stringMatching(/^[a-z][a-z0-9-]{0,15}$/), (rolloutPercent, key) => {
        expect(Math.abs(onShare(flag({ key, rolloutPercent })) * 100 - rolloutPercent)).toBeLessThanOrEqual(5);
      }),
      PINNED,
    );
  });

  it('is off for everyone at 0% and on for everyone at 100%', () => {
    expect(onShare(flag({ rolloutPercent: 0 }))).toBe(0);
    expect(onShare(flag({ rolloutPercent: 100 }))).toBe(1);
  });

  it('gives a subject the same answer every time', () => {
    fc.assert(
      fc.property(percent, fc.string(), (rolloutPercent, subject) => {
        const definition = flag({ rolloutPercent });
        expect(evaluateFlag({ ...definition }, subject)).toBe(evaluateFlag(definition, subject));
      }),
    );
  });

  it('only turns on for more subjects as the rollout grows, never off for one who had it', () => {
    fc.assert(
      fc.property(percent, percent, fc.string(), (a, b, subject) => {
        const [low, high] = a <= b ? [a, b] : [b, a];
        if (evaluateFlag(flag({ rolloutPercent: low }), subject)) expect(evaluateFlag(flag({ rolloutPercent: high }), subject)).toBe(true);
      }),
    );
  });

  it('draws a different population for each flag key', () => {
    const one = flag({ key: 'one', rolloutPercent: 50 });
    const two = flag({ key: 'two', rolloutPercent: 50 });
    const both = SUBJECTS.filter((subject) => evaluateFlag(one, subject) && evaluateFlag(two, subject)).length;
    // Independent halves overlap on a quarter; a shared population would overlap on half.
    expect(Math.abs(both / SUBJECTS.length - 0.25)).toBeLessThan(0.05);
  });

  it('honours hundredths of a percent: at 0.01% it is on exactly for the lowest of 10,000 buckets', () => {
    const tiny = flag({ rolloutPercent: 0.01 });
    const subjects = Array.from({ length: 100_000 }, (_, i) => `s${i}`);
    const on = subjects.filter((subject) => evaluateFlag(tiny, subject));
    expect(on).toEqual(subjects.filter((subject) => bucketOf(subject, tiny.key, 10_000) === 0));
    // 10 expected; the binomial standard deviation is ~3.2.
    expect(on.length).toBeGreaterThan(0);
    expect(on.length).toBeLessThan(25);
  });

  it('reads 0.29% as 29 buckets, though 0.29 × 100 is 28.999… in binary floating point', () => {
    const subject = Array.from({ length: 100_000 }, (_, i) => `s${i}`).find((s) => bucketOf(s, 'new-checkout', 10_000) === 28)!;
    expect(evaluateFlag(flag({ rolloutPercent: 0.29 }), subject)).toBe(true);
    expect(evaluateFlag(flag({ rolloutPercent: 0.28 }), subject)).toBe(false);
  });

  it('lets allow and deny win over the rollout', () => {
    fc.assert(
      fc.property(percent, fc.string({ minLength: 1 }), (rolloutPercent, subject) => {
        expect(evaluateFlag(flag({ rolloutPercent, allow: [subject] }), subject)).toBe(true);
        expect(evaluateFlag(flag({ rolloutPercent, deny: [subject] }), subject)).toBe(false);
      }),
    );
  });

  it('lets deny win over allow in a definition that skipped the schema', () => {
    expect(evaluateFlag(flag({ rolloutPercent: 100, allow: ['u1'], deny: ['u1'] }), 'u1')).toBe(false);
  });

  it('is off for everyone, allowed subjects too, when disabled', () => {
    const off = flag({ enabled: false, rolloutPercent: 100, allow: ['u1'] });
    expect(evaluateFlag(off, 'u1')).toBe(false);
    expect(onShare(off)).toBe(0);
  });

  it('without a subject id, is on only for a full rollout', () => {
    expect(evaluateFlag(flag({ rolloutPercent: 99.99 }), undefined)).toBe(false);
    expect(evaluateFlag(flag({ rolloutPercent: 100 }), undefined)).toBe(true);
  });
});

describe('featureFlagSchema', () => {
  const messages = (input: unknown) => {
    const parsed = featureFlagSchema.safeParse(input);
    return parsed.success ? [] : parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
  };

  it('accepts a full definition and one without lists', () => {
    expect(featureFlagSchema.parse({ key: 'new-checkout', enabled: true, rolloutPercent: 12.34, allow: ['staff-1'], deny: ['u9'] }).rolloutPercent).toBe(12.34);
    expect(messages({ key: 'beta.search_v2', enabled: false, rolloutPercent: 0 })).toEqual([]);
    expect(messages({ key: 'x', enabled: true, rolloutPercent: 0.29 })).toEqual([]);
  });

  it('refuses a rollout outside 0-100 or finer than 0.01', () => {
    expect(messages({ key: 'x', enabled: true, rolloutPercent: 12.345 })).toEqual(['rolloutPercent: rolloutPercent goes in steps of 0.01 (12.34, not 12.345)']);
    expect(messages({ key: 'x', enabled: true, rolloutPercent: 101 })).toHaveLength(1);
    expect(messages({ key: 'x', enabled: true, rolloutPercent: -1 })).toHaveLength(1);
  });

  it('refuses an id in both allow and deny, a bad key and unknown fields', () => {
    expect(messages({ key: 'x', enabled: true, rolloutPercent: 5, allow: ['u1'], deny: ['u1'] })).toEqual(['allow: "u1" is in both allow and deny; say which one you mean']);
    expect(messages({ key: 'has space', enabled: true, rolloutPercent: 5 })[0]).toContain('key: a flag key is 1-64 letters');
    expect(messages({ key: 'x', enabled: true, rolloutPercent: 5, rollout: 5 })).toHaveLength(1);
  });
});
