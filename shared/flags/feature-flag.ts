import { z } from 'zod';
import { bucketOf } from '../routing/stable-hash';

/** Buckets per flag: 10,000, so a rollout moves in steps of 0.01%. */
const BUCKETS = 10_000;

/** Subject ids one flag's allow or deny list may hold: each isolate keeps every list in memory. */
export const MAX_FLAG_LIST_IDS = 1_000;

/** A subject id in an allow or deny list: a user id (or visitor id), never free text. */
const subjectId = z.string().min(1).max(128);

/** A flag key names the flag in responses, logs and headers, so it is a plain token. */
const FLAG_KEY = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** 12.34 passes, 12.345 does not; the tolerance absorbs binary floating point (0.29 × 100 = 28.999…). */
const inHundredths = (percent: number): boolean => Math.abs(percent * 100 - Math.round(percent * 100)) < 1e-6;

export const featureFlagSchema = z
  .object({
    key: z.string().regex(FLAG_KEY, 'a flag key is 1-64 letters, digits, ".", "_" or "-", starting with a letter or digit'),
    /** The kill switch: false turns the flag off for everyone, allow list included. */
    enabled: z.boolean(),
    /** Share of subjects the flag is on for, 0 to 100 in steps of 0.01. */
    rolloutPercent: z.number().min(0).max(100).refine(inHundredths, 'rolloutPercent goes in steps of 0.01 (12.34, not 12.345)'),
    /** Subject ids the flag is always on for (while enabled): staff, testers, a customer who asked. */
    allow: z.array(subjectId).max(MAX_FLAG_LIST_IDS).optional(),
    /** Subject ids the flag is always off for. */
    deny: z.array(subjectId).max(MAX_FLAG_LIST_IDS).optional(),
  })
  .strict()
  .superRefine((flag, ctx) => {
    const denied = new Set(flag.deny);
    for (const id of flag.allow ?? []) {
      if (denied.has(id)) ctx.addIssue({ code: 'custom', path: ['allow'], message: `"${id}" is in both allow and deny; say which one you mean` });
    }
  });

export type FeatureFlag = z.infer<typeof featureFlagSchema>;

/**
 * Whether the flag is on for one subject, in the order LaunchDarkly evaluates (off switch,
 * then individual targets, then the percentage rollout):
 * 1. `enabled: false` is off for everyone, so one switch withdraws a feature that misbehaves;
 * 2. an id in `deny` is off and an id in `allow` is on, whatever the rollout (deny first: the schema
 *    refuses an id in both, but a definition that skipped the schema fails safe);
 * 3. otherwise the subject is on when its bucket, `bucketOf(subjectId, flag.key, 10_000)`, falls
 *    below `rolloutPercent × 100`. The flag key is the salt, so each flag draws its own population
 *    (the 10% who have one flag are not the 10% who have another); raising the percentage only
 *    turns the flag on for more subjects, never off for one who had it; renaming a flag draws a
 *    new population.
 * Without a subject id (an anonymous caller) there is nothing to be sticky to: a partial rollout
 * would flip between requests, so only a full rollout is on.
 */
export function evaluateFlag(flag: FeatureFlag, subjectId: string | undefined): boolean {
  if (!flag.enabled) return false;
  if (subjectId === undefined) return flag.rolloutPercent >= 100;
  if (flag.deny?.includes(subjectId)) return false;
  if (flag.allow?.includes(subjectId)) return true;
  return bucketOf(subjectId, flag.key, BUCKETS) < Math.round(flag.rolloutPercent * 100);
}
