import { z } from 'zod';
import { evaluateFlag, featureFlagSchema } from './feature-flag';

/** A set of flag definitions, as stored or sent by an operator; a key may appear once. */
export const flagSetSchema = z.array(featureFlagSchema).superRefine((flags, ctx) => {
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
