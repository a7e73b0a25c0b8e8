import { z } from 'zod';
import { bucketOf } from './stable-hash';

/** `{ <version>: <percent> }`: whole percents, 0 to 100, adding up to 100. */
export type VersionWeights = Readonly<Record<string, number>>;

/**
 * A version name is what `x-served-by` and logs will show, so it is kept to a header-safe token
 * (which also rules out `__proto__` and friends as record keys).
 */
const VERSION_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** Every reason these weights cannot be used, in words an operator can act on; empty when fine. */
export function weightProblems(weights: Readonly<Record<string, unknown>>): string[] {
  const problems: string[] = [];
  let total = 0;
  for (const [version, weight] of Object.entries(weights)) {
    if (!VERSION_NAME.test(version)) problems.push(`version "${version}": a name is 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit`);
    if (typeof weight !== 'number' || !Number.isInteger(weight) || weight < 0 || weight > 100) {
      problems.push(`version "${version}": weight must be a whole percent from 0 to 100, got ${JSON.stringify(weight)}`);
    } else {
      total += weight;
    }
  }
  if (problems.length === 0 && total !== 100) problems.push(`weights must add up to 100, got ${total}`);
  return problems;
}

/**
 * `{ <version>: [user ids] }`: users sent to a version whatever the weights ("employees first": the
 * staff use the canary while it has 0% of everyone else).
 */
export type VersionAllowLists = Readonly<Record<string, readonly string[]>>;

/** User ids a route's allow lists may hold in all: every isolate keeps them in memory. */
export const MAX_ALLOWED_USERS = 1_000;
const MAX_USER_ID_LENGTH = 128;

/** Every reason these allow lists cannot go with these weights; empty when fine. */
export function allowListProblems(weights: VersionWeights, allow: Readonly<Record<string, unknown>>): { path: string[]; message: string }[] {
  const problems: { path: string[]; message: string }[] = [];
  const seen = new Map<string, string>();
  let total = 0;
  for (const [version, ids] of Object.entries(allow)) {
    if (!Object.hasOwn(weights, version)) {
      problems.push({ path: [version], message: `unknown version; the versions are ${Object.keys(weights).join(', ')}` });
      continue;
    }
    if (!Array.isArray(ids)) {
      problems.push({ path: [version], message: 'must be a list of user ids' });
      continue;
    }
    ids.forEach((id: unknown, index) => {
      if (typeof id !== 'string' || id.length === 0 || id.length > MAX_USER_ID_LENGTH) {
        problems.push({ path: [version, String(index)], message: `a user id is 1-${MAX_USER_ID_LENGTH} characters` });
        return;
      }
      const other = seen.get(id);
      if (other !== undefined && other !== version) problems.push({ path: [version, String(index)], message: `"${id}" is also allowed on ${other}; a user goes to one version` });
      seen.set(id, version);
    });
    total += ids.length;
  }
  if (total > MAX_ALLOWED_USERS) problems.push({ path: [], message: `at most ${MAX_ALLOWED_USERS} user ids in all, got ${total}` });
  return problems;
}

/** The weights as a request body carries them (docs/api.md `PUT /_ops/routes/:name {weights}`). */
export const versionWeightsSchema = z.record(z.string(), z.number()).superRefine((weights, ctx) => {
  for (const message of weightProblems(weights)) ctx.addIssue({ code: 'custom', message });
});

const BUCKETS = 10_000;

/** Code-unit order: the same on every runtime, unlike localeCompare. */
const byName = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/**
 * Sticky weighted choice of a version (canary, blue-green), as nginx's `split_clients` does it
 * (there with MurmurHash2 and the versions in the order written): the key (a user id, or a random
 * id kept in a cookie) is hashed with the salt into one of 10,000 buckets (`bucketOf`), and the
 * versions, in name order, each own a run of buckets `percent × 100` wide. A version's share is
 * exact in buckets, and the same key always gets the same version for the same weights, in every
 * isolate.
 *
 * Why a key stays put when weights change. A key's bucket depends on the key and the salt, never on
 * the weights, and the layout depends on the weights alone: versions in code-unit name order, not
 * in the order the JSON happened to list them (object key order is insertion order, with
 * integer-like keys moved to the front: it records how a body was written, not what it means, and
 * `{"v2":70,"v1":30}` must split users as `{"v1":30,"v2":70}` does), and not in locale order (which
 * runtimes may disagree on). So when weight moves between two versions that are neighbours in that
 * order (versions of weight 0 between them do not count), the only thing that moves is the boundary
 * between them: the keys that change version go from the one that shrank into the one that grew,
 * and every other version keeps exactly its buckets. With two versions (stable and canary, blue and
 * green) every change is of this kind: raising the canary only moves keys into it, lowering it only
 * moves keys out.
 *
 * With three or more versions, moving weight between versions that are not neighbours shifts the
 * runs of the versions between them: they keep their share but trade keys, as with split_clients.
 * Change weights one pair of neighbours at a time. No rule that depends on the key and the weights
 * alone can do better for every pair: take a/b/c at 50/50/0 (a holds the keys A, b the keys B),
 * 50/0/50 and 0/50/50. Going from the first to the second must leave A with a, so c gets B; from
 * the first to the third must leave B with b, so c gets A; from the second to the third must leave
 * c's keys alone, so A = B, yet they are disjoint halves.
 *
 * The salt makes populations independent: one per route, so being in one route's canary says
 * nothing about another's; or one salt shared by routes that ship together, so a user sees one
 * release across all of them.
 */
export class WeightedChoice {
  /** The weights as given, for `GET /_ops/routes`. */
  readonly weights: VersionWeights;
  /** Versions with a share, in layout order, and where each one's run of buckets ends. */
  private readonly versions: readonly string[];
  private readonly ends: readonly number[];
  /** The allow lists as given (only versions with ids), for `GET /_ops/routes`. */
  readonly allow: VersionAllowLists;
  /** User id → the version its allow list sends it to. */
  private readonly allowed = new Map<string, string>();

  constructor(
    weights: VersionWeights,
    private readonly salt: string,
    allow: VersionAllowLists = {},
  ) {
    const problems = [...weightProblems(weights), ...allowListProblems(weights, allow).map((p) => `allow.${p.path.join('.')}: ${p.message}`)];
    if (problems.length > 0) throw new RangeError(`WeightedChoice: ${problems.join('; ')}`);
    this.weights = Object.freeze({ ...weights });
    const lists: Record<string, readonly string[]> = {};
    for (const [version, ids] of Object.entries(allow)) {
      if (ids.length === 0) continue;
      lists[version] = Object.freeze([...ids]);
      for (const id of ids) this.allowed.set(id, version);
    }
    this.allow = Object.freeze(lists);
    const laidOut = Object.keys(weights)
      .sort(byName)
      .filter((version) => weights[version]! > 0);
    let end = 0;
    this.ends = laidOut.map((version) => (end += weights[version]! * (BUCKETS / 100)));
    this.versions = laidOut;
  }

  /**
   * The version a signed-in user's allow list sends them to, whatever the weights; undefined when
   * they are on no list (then `choose` decides). Only user ids: a visitor cookie is anyone's to
   * copy, so it is never on a list.
   */
  allowedVersion(userId: string): string | undefined {
    return this.allowed.get(userId);
  }

  /** The version for this key; the same key, salt and weights always give the same version. */
  choose(key: string): string {
    const bucket = bucketOf(key, this.salt, BUCKETS);
    const index = this.ends.findIndex((end) => bucket < end);
    return this.versions[index]!;
  }
}
