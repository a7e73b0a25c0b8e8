import { describe, expect, it } from 'vitest';
import { evaluateFlags, flagSetSchema, type FlagSet } from '../../../shared/flags/flag-set';

const flags: FlagSet = [
  { key: 'new-checkout', enabled: true, rolloutPercent: 100 },
  { key: 'dark-mode', enabled: false, rolloutPercent: 100 },
  { key: 'beta-search', enabled: true, rolloutPercent: 0, allow: ['staff-1'] },
];

describe('evaluateFlags', () => {
  it('answers every flag for one subject', () => {
    expect(evaluateFlags(flags, 'staff-1')).toEqual({ 'new-checkout': true, 'dark-mode': false, 'beta-search': true });
    expect(evaluateFlags(flags, 'user-7')).toEqual({ 'new-checkout': true, 'dark-mode': false, 'beta-search': false });
    expect(evaluateFlags(flags, undefined)).toEqual({ 'new-checkout': true, 'dark-mode': false, 'beta-search': false });
  });

  it('answers an empty object for no flags', () => {
    expect(evaluateFlags([], 'user-7')).toEqual({});
  });
});

describe('flagSetSchema', () => {
  it('accepts distinct flags', () => {
    expect(flagSetSchema.parse(flags)).toEqual(flags);
  });

  it('refuses a flag key defined twice, pointing at the second', () => {
    const parsed = flagSetSchema.safeParse([...flags, { key: 'dark-mode', enabled: true, rolloutPercent: 5 }]);
    expect(parsed.success).toBe(false);
    expect(parsed.error?.issues.map((issue) => [issue.path.join('.'), issue.message])).toEqual([['3.key', 'flag "dark-mode" is defined twice']]);
  });
});
