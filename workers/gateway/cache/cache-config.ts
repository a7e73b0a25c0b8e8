import { z } from 'zod';
import type { CacheTagsObject } from './cache-tags-object';

/** The gateway bindings the response cache reads (env.ts's GatewayBindings includes them). */
export interface CacheBindings {
  /** One version counter per cache tag (cache-tags-object.ts). */
  CACHE_TAGS: DurableObjectNamespace<CacheTagsObject>;
  /** `false` turns the response cache off: cacheable routes answer `x-cache: BYPASS`. */
  CACHE_ENABLED?: string;
  /** Optional L2 in Upstash Redis (both set, or neither; the token is a secret). */
  UPSTASH_REDIS_REST_URL?: string;
  UPSTASH_REDIS_REST_TOKEN?: string;
}

const trimmed = z
  .string()
  .optional()
  .transform((value) => value?.trim() || undefined);

const schema = z
  .object({
    CACHE_ENABLED: z
      .enum(['true', 'false', '1', '0', ''])
      .optional()
      .transform((value) => value !== 'false' && value !== '0'),
    UPSTASH_REDIS_REST_URL: trimmed.pipe(z.url({ protocol: /^https?$/ }).optional()),
    UPSTASH_REDIS_REST_TOKEN: trimmed,
  })
  .refine((config) => !config.UPSTASH_REDIS_REST_URL || config.UPSTASH_REDIS_REST_TOKEN, {
    path: ['UPSTASH_REDIS_REST_TOKEN'],
    message: 'is required when UPSTASH_REDIS_REST_URL is set',
  });

export type CacheConfig = z.infer<typeof schema>;

const parsed = new WeakMap<object, CacheConfig>();

/** The cache's configuration, parsed once per environment object; a bad var is one clear error. */
export function cacheConfig(env: Partial<CacheBindings>): CacheConfig {
  let config = parsed.get(env);
  if (!config) {
    const result = schema.safeParse(env);
    if (!result.success) {
      const problems = result.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; ');
      throw new Error(`invalid gateway configuration: ${problems}`);
    }
    config = result.data;
    parsed.set(env, config);
  }
  return config;
}
