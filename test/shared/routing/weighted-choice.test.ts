import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { versionWeightsSchema, WeightedChoice, weightProblems, type VersionWeights } from '../../../shared/routing/weighted-choice';

const USERS = Array.from({ length: 2_000 }, (_, i) => `user-${i}`);
/** Fixed seeds: these properties measure shares of 2,000 users, so the runs are pinned, not flaky. */
const PINNED = { seed: 424_242, numRuns: 40 };

/** 2 to 5 versions whose whole-percent weights add up to 100 (some may be 0). */
const weightsArbitrary = fc
  .uniqueArray(fc.integer({ min: 1, max: 99 }), { minLength: 1, maxLength: 4 })
  .chain((cuts) => fc.constant([0, ...cuts.sort((x, y) => x - y), 100]))
  .map((points) => {
    const weights: Record<string, number> = {};
    for (let i = 1; i < points.length; i++) weights[`v${i}`] = points[i]! - points[i - 1]!;
    return weights;
  });

const assignments = (choice: WeightedChoice) => new Map(USERS.map((user) => [user, choice.choose(user)]));

describe('WeightedChoice', () => {
  it('lands within 5 points of each weight over 2,000 users', () => {
    fc.assert(
      fc.property(weightsArbitrary, fc.string(), (weights, salt) => {
        const counts = new Map<string, number>();
        for (const version of assignments(new WeightedChoice(weights, salt)).values()) counts.set(version, (counts.get(version) ?? 0) + 1);
        for (const [version, percent] of Object.entries(weights)) {
          expect(Math.abs(((counts.get(version) ?? 0) / USERS.length) * 100 - percent)).toBeLessThanOrEqual(5);
        }
      }),
      PINNED,
    );
  });

  it('gives a user the same version every time, from any instance with the same weights and salt', () => {
    fc.assert(
      fc.property(weightsArbitrary, fc.string(), fc.string(), (weights, salt, user) => {
        const version = new WeightedChoice(weights, salt).choose(user);
        expect(new WeightedChoice({ ...weights }, salt).choose(user)).toBe(version);
        expect(new WeightedChoice(weights, salt).choose(user)).toBe(version);
      }),
    );
  });

  it('never chooses a version of weight 0, and always the only one at 100', () => {
    const all = new WeightedChoice({ stable: 100, canary: 0 }, 'checkout');
    for (const user of USERS.slice(0, 200)) expect(all.choose(user)).toBe('stable');
  });

  it('does not depend on the order the weights were written in', () => {
    const written = new WeightedChoice({ v2: 30, v10: 20, v1: 50 }, 'catalog');
    const reordered = new WeightedChoice(JSON.parse('{"v1": 50, "v10": 20, "v2": 30}') as VersionWeights, 'catalog');
    for (const user of USERS) expect(reordered.choose(user)).toBe(written.choose(user));
  });

  it('with two versions, raising the canary only moves users into it', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 100 }), fc.integer({ min: 0, max: 100 }), fc.constantFrom('stable', 'zz-stable'), (low, high, stableName) => {
        fc.pre(low < high);
        const before = assignments(new WeightedChoice({ [stableName]: 100 - low, canary: low }, 'route'));
        const after = assignments(new WeightedChoice({ [stableName]: 100 - high, canary: high }, 'route'));
        let moved = 0;
        for (const user of USERS) {
          if (after.get(user) !== before.get(user)) {
            moved++;
            expect([before.get(user), after.get(user)]).toEqual([stableName, 'canary']);
          }
        }
        expect(Math.abs((moved / USERS.length) * 100 - (high - low))).toBeLessThanOrEqual(5);
      }),
      PINNED,
    );
  });

  it('with more versions, weight moved between neighbours in name order moves users only between those two', () => {
    fc.assert(
      fc.property(weightsArbitrary, fc.nat(), fc.integer({ min: 1, max: 100 }), fc.boolean(), (weights, pick, amount, upward) => {
        const versions = Object.keys(weights).sort();
        fc.pre(versions.length >= 2);
        const i = pick % (versions.length - 1);
        const [giver, taker] = upward ? [versions[i + 1]!, versions[i]!] : [versions[i]!, versions[i + 1]!];
        const moving = Math.min(amount, weights[giver]!);
        const changed = { ...weights, [giver]: weights[giver]! - moving, [taker]: weights[taker]! + moving };
        const before = assignments(new WeightedChoice(weights, 'route'));
        const after = assignments(new WeightedChoice(changed, 'route'));
        for (const user of USERS) {
          if (after.get(user) !== before.get(user)) expect([before.get(user), after.get(user)]).toEqual([giver, taker]);
        }
      }),
      PINNED,
    );
  });

  it('counts versions of weight 0 as absent when deciding who is a neighbour', () => {
    const before = assignments(new WeightedChoice({ blue: 80, canary: 0, green: 20 }, 'route'));
    const after = assignments(new WeightedChoice({ blue: 60, canary: 0, green: 40 }, 'route'));
    let moved = 0;
    for (const user of USERS) {
      if (after.get(user) !== before.get(user)) {
        moved++;
        expect([before.get(user), after.get(user)]).toEqual(['blue', 'green']);
      }
    }
    expect(moved).toBeGreaterThan(0);
  });

  it('draws an independent population for each salt', () => {
    const checkout = new WeightedChoice({ stable: 50, canary: 50 }, 'checkout');
    const search = new WeightedChoice({ stable: 50, canary: 50 }, 'search');
    const both = USERS.filter((user) => checkout.choose(user) === 'canary' && search.choose(user) === 'canary').length;
    // Independent halves overlap on a quarter; one population for both routes would overlap on half.
    expect(Math.abs(both / USERS.length - 0.25)).toBeLessThan(0.05);
  });

  it('keeps the weights it was given, for GET /_ops/routes', () => {
    expect(new WeightedChoice({ stable: 90, canary: 10 }, 'r').weights).toEqual({ stable: 90, canary: 10 });
  });
});

describe('weight validation', () => {
  it.each([
    [{ stable: 90, canary: 5 }, 'weights must add up to 100, got 95'],
    [{}, 'weights must add up to 100, got 0'],
    [{ stable: 110, canary: -10 }, 'version "stable": weight must be a whole percent from 0 to 100, got 110'],
    [{ stable: 99.5, canary: 0.5 }, 'version "stable": weight must be a whole percent from 0 to 100, got 99.5'],
    [{ 'new version': 100 }, 'version "new version": a name is 1-64 letters'],
  ])('refuses %j: %s', (weights, message) => {
    expect(() => new WeightedChoice(weights, 'r')).toThrow(message);
    const parsed = versionWeightsSchema.safeParse(weights);
    expect(parsed.success).toBe(false);
    expect(parsed.error?.issues.map((issue) => issue.message).join('; ')).toContain(message);
  });

  it('refuses a weight that is not a number, and a record key JSON can smuggle in', () => {
    expect(weightProblems({ stable: '100' })).toEqual(['version "stable": weight must be a whole percent from 0 to 100, got "100"']);
    expect(weightProblems(JSON.parse('{"__proto__": 100}') as Record<string, unknown>)[0]).toContain('version "__proto__": a name is');
    expect(versionWeightsSchema.safeParse({ stable: '100' }).success).toBe(false);
  });

  it('accepts whole percents adding up to 100, zeros included', () => {
    expect(versionWeightsSchema.parse({ stable: 100, canary: 0 })).toEqual({ stable: 100, canary: 0 });
    expect(weightProblems({ blue: 34, green: 33, 'canary-2.1': 33 })).toEqual([]);
  });
});
