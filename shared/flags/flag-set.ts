import { z } from 'zod';
import { evaluateFlag, featureFlagSchema } from './feature-flag';

/**
 * Flags a set may hold: every isolate evaluates them all for each caller and the service token
 * carries the keys that are on, so the set must stay small.
 */
export const MAX_FLAGS = 100;

/** A set of flag definitions, as stored or sent by an operator; a key may appear once. */
export const flagSetSchema = z.array(featureFlagSchema).max(MAX_FLAGS).superRefine((flags, ctx) => {
  const seen = new Set<string>();
  flags.forEach((flag, index) => {
    if (seen.has(flag.key)) ctx.addIssue({ code: 'custom', path: [index, 'key'], message: `flag "${flag.key}" is defined twice` });
    seen.add(flag.key);
  });
});

export type FlagSet = z.infer<typeof flagSetSchema>;

/** Every flag's value for one subject, `{ [flag key]: on }`: what a client or a service is handed. */
export function evaluateFlags(flags: FlagSet, subjectId: string | undefined): Record<string, boolean> {
  const values: Record<string, boolean> = {};
  for (const flag of flags) values[flag.key] = evaluateFlag(flag, subjectId);
  return values;
}

/** The keys of the flags that are on for one subject, in code-unit order: what a service token carries. */
export function flagsOn(flags: FlagSet, subjectId: string | undefined): string[] {
  const on: string[] = [];
  for (const flag of flags) if (evaluateFlag(flag, subjectId)) on.push(flag.key);
  return on.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}
