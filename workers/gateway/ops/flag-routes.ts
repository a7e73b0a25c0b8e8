import { Hono, type Context } from 'hono';
import { z } from 'zod';
import { featureFlagSchema, MAX_FLAG_LIST_IDS } from '../../../shared/flags/feature-flag';
import { MAX_FLAGS } from '../../../shared/flags/flag-set';
import { badRequest, HttpError, notFound, validationFailed } from '../../../shared/http/problem';
import type { AppEnv } from '../../../shared/middleware/app-env';
import { toFieldErrors } from '../../../shared/validation/validate';
import { gatewayConfig } from '../config';
import type { GatewayBindings } from '../env';
import { currentFlags, flagStore, useStoredFlags, type LiveFlagSet } from '../traffic/live-flags';

type Ctx = Context<AppEnv<GatewayBindings>>;

/**
 * `PUT /_ops/flags/:key`'s body. `rolloutPercent` left out is 100: `{enabled: true}` is on for
 * everyone, `{enabled: false}` off for everyone. The whole definition is replaced (a list left
 * out is emptied), so what an operator sends is what is in force.
 */
export const flagBodySchema = z
  .object({
    enabled: z.boolean(),
    rolloutPercent: z.number().optional(),
    allow: z.array(z.string()).max(MAX_FLAG_LIST_IDS).optional(),
    deny: z.array(z.string()).max(MAX_FLAG_LIST_IDS).optional(),
  })
  .strict();

/** One flag as `GET /_ops/flags` shows it. */
function describeFlag(live: LiveFlagSet, key: string) {
  const flag = live.flags.find((f) => f.key === key);
  if (!flag) return undefined;
  const { key: _key, ...definition } = flag;
  return { ...definition, ...live.sources.get(key) };
}

const describeAll = (live: LiveFlagSet) => Object.fromEntries(live.flags.map((flag) => [flag.key, describeFlag(live, flag.key)]));

/** The `:key` of the path, checked as a flag key is (the definition's own schema says how). */
function flagKey(c: Ctx): string {
  const key = c.req.param('key') ?? '';
  const parsed = featureFlagSchema.shape.key.safeParse(key);
  if (!parsed.success) throw validationFailed(toFieldErrors(parsed.error).map((e) => ({ ...e, path: 'key' })));
  return key;
}

/**
 * `/_ops/flags`: feature flags changed at run time, no deploy (traffic/live-flags.ts). Mounted by
 * ops/ops.ts behind the operator token.
 */
export const flagRoutes = new Hono<AppEnv<GatewayBindings>>();

/** Every flag in force: `{<key>: {enabled, rolloutPercent, allow?, deny?, source, updatedAt?}}`, read from the store now. */
flagRoutes.get('/flags', async (c) => c.json(describeAll(await currentFlags(c, 0))));

/**
 * Sets one flag for every isolate: used through this isolate at once, by every other within
 * FLAGS_REFRESH_MS (1 s). A bad body is a 400 naming the fields and changes nothing; a new key
 * past MAX_FLAGS flags (defaults included) is a 409.
 */
flagRoutes.put('/flags/:key', async (c) => {
  const key = flagKey(c);
  let body: unknown;
  try {
    body = await c.req.json();
  } catch {
    throw badRequest('The request body is not valid JSON.');
  }
  const shape = flagBodySchema.safeParse(body);
  if (!shape.success) throw validationFailed(toFieldErrors(shape.error));
  const { enabled, rolloutPercent = 100, allow, deny } = shape.data;
  const parsed = featureFlagSchema.safeParse({ key, enabled, rolloutPercent, ...(allow ? { allow } : {}), ...(deny ? { deny } : {}) });
  if (!parsed.success) throw validationFailed(toFieldErrors(parsed.error));
  const defaults = gatewayConfig(c.env).FEATURE_FLAGS.map((flag) => flag.key);
  const change = await flagStore(c.env).put(parsed.data, defaults, MAX_FLAGS);
  if (change.kind === 'too-many') {
    throw new HttpError(409, { type: 'too-many-flags', detail: `At most ${change.limit} flags (defaults included); change or remove one (DELETE /_ops/flags/:key) first.` });
  }
  const live = useStoredFlags(c.env, change.stored);
  c.get('log').warn('feature flag changed', { flag: key, enabled, rolloutPercent, allow: allow?.length ?? 0, deny: deny?.length ?? 0 });
  return c.json({ [key]: describeFlag(live, key) });
});

/** Forgets the operator's change: the `FEATURE_FLAGS` default applies again (or the flag is gone, if it has none). */
flagRoutes.delete('/flags/:key', async (c) => {
  const key = flagKey(c);
  const { removed, stored } = await flagStore(c.env).remove(key);
  if (!removed) throw notFound(`No flag ${JSON.stringify(key)} was set by an operator.`);
  useStoredFlags(c.env, stored);
  c.get('log').warn('feature flag back to its default', { flag: key });
  return c.body(null, 204);
});
