import { gatewayConfig } from '../config';
import type { GatewayBindings } from '../env';
import type { CacheTagsObject } from './cache-tags-object';

/** The gateway bindings the response cache reads (env.ts's GatewayBindings includes them). */
export interface CacheBindings {
  /** One version counter per cache tag (cache-tags-object.ts). */
  CACHE_TAGS: DurableObjectNamespace<CacheTagsObject>;
  /** `false` turns the response cache off: cacheable routes answer `x-cache: BYPASS`. */
  CACHE_ENABLED?: string;
  /** Optional, in Upstash Redis: rate limits and the cache's L2 (both set, or neither; the token is a secret). */
  UPSTASH_REDIS_REST_URL?: string;
  UPSTASH_REDIS_REST_TOKEN?: string;
}

/**
 * What the response cache reads of the gateway's configuration (config.ts parses and checks it
 * once, with the rest: `CACHE_ENABLED`, and the Upstash pair the rate limiter shares).
 */
export const cacheConfig = (env: GatewayBindings) => {
  const { CACHE_ENABLED, UPSTASH_REDIS_REST_URL, UPSTASH_REDIS_REST_TOKEN } = gatewayConfig(env);
  return { CACHE_ENABLED, UPSTASH_REDIS_REST_URL, UPSTASH_REDIS_REST_TOKEN };
};
