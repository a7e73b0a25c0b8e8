import { z } from 'zod';
import { canonicalAddress } from '../shared/http/client-network';
import type { ServiceBindings } from '../workers/gateway/env';

/**
 * The services the route table sends to (env.ts), each reachable at `UPSTREAM_<NAME>_URL` off
 * Cloudflare. Not CATALOG_CANARY: without canary routing here nothing would reach it.
 */
export const SERVICE_NAMES = ['CATALOG', 'USERS', 'ORDERS', 'PAYMENTS', 'NOTIFICATIONS', 'LEDGER'] as const satisfies readonly (keyof ServiceBindings)[];

const url = z.string().trim().pipe(z.url({ protocol: /^https?$/ }));
const blankAsUnset = (value: unknown) => (typeof value === 'string' && value.trim() === '' ? undefined : value);

/**
 * What the Bun and Deno entry points read from the environment, besides the gateway's own vars
 * (workers/gateway/config.ts: SERVICE_TOKEN_PRIVATE_JWK, ADMIN_TOKEN, ACCESS_TOKEN_*, CORS_ORIGINS,
 * ROUTE_POLICIES, LOG_LEVEL, ...), which are read as on Cloudflare.
 */
const portableSchema = z
  .object({
    PORT: z.coerce.number().int().min(0).max(65_535).default(8788),
    // Not HOSTNAME: shells and containers set that to the machine's name.
    HOST: z.string().min(1).default('127.0.0.1'),
    // Where rate limits and breakers live: this process's memory, or Upstash Redis (shared by every process).
    STATE: z.enum(['memory', 'upstash']).default('memory'),
    UPSTASH_REDIS_REST_URL: z.preprocess(blankAsUnset, url.optional()),
    UPSTASH_REDIS_REST_TOKEN: z.preprocess(blankAsUnset, z.string().optional()),
    // How often each HTTP origin of a pool (ORIGIN_POOLS) is asked for its health (the cron's work on Cloudflare).
    HEALTH_CHECK_INTERVAL_MS: z.coerce.number().int().min(100).default(10_000),
    // The proxies in front of this process whose X-Forwarded-For is believed: addresses, comma-separated.
    TRUSTED_PROXIES: z.preprocess(
      blankAsUnset,
      z
        .string()
        .optional()
        .transform((list, ctx) => {
          const addresses = new Set<string>();
          for (const entry of (list ?? '').split(',').map((part) => part.trim()).filter(Boolean)) {
            const address = canonicalAddress(entry);
            if (address) addresses.add(address);
            else ctx.addIssue({ code: 'custom', message: `${JSON.stringify(entry)} is not an IP address (ranges are not taken)` });
          }
          return addresses;
        }),
    ),
    ...Object.fromEntries(SERVICE_NAMES.map((name) => [`UPSTREAM_${name}_URL`, z.preprocess(blankAsUnset, url.optional())])),
  })
  .refine((config) => config.STATE !== 'upstash' || (config.UPSTASH_REDIS_REST_URL && config.UPSTASH_REDIS_REST_TOKEN), {
    path: ['STATE'],
    message: 'upstash needs UPSTASH_REDIS_REST_URL and UPSTASH_REDIS_REST_TOKEN',
  });

export interface PortableConfig {
  port: number;
  hostname: string;
  state: { kind: 'memory' } | { kind: 'upstash'; url: string; token: string };
  /** The base URL of each service that has one; routes to the others are not served. */
  upstreams: Partial<Record<keyof ServiceBindings, string>>;
  /** How often pool origins are health-checked here (in memory, by a timer). */
  healthCheckIntervalMs: number;
  /** TRUSTED_PROXIES, each address spelled as `canonicalAddress` spells it. */
  trustedProxies: ReadonlySet<string>;
}

/** Parses the environment; a bad value is one error naming every variable that is wrong. */
export function portableConfig(vars: Record<string, string | undefined>): PortableConfig {
  const result = portableSchema.safeParse(vars);
  if (!result.success) {
    throw new Error(`invalid portable gateway configuration: ${result.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; ')}`);
  }
  const parsed = result.data as z.infer<typeof portableSchema> & Record<string, string | undefined>;
  const upstreams: PortableConfig['upstreams'] = {};
  for (const name of SERVICE_NAMES) {
    const base = parsed[`UPSTREAM_${name}_URL`];
    if (base) upstreams[name] = base;
  }
  return {
    port: parsed.PORT,
    hostname: parsed.HOST,
    state:
      parsed.STATE === 'upstash' ? { kind: 'upstash', url: parsed.UPSTASH_REDIS_REST_URL!, token: parsed.UPSTASH_REDIS_REST_TOKEN! } : { kind: 'memory' },
    upstreams,
    healthCheckIntervalMs: parsed.HEALTH_CHECK_INTERVAL_MS,
    trustedProxies: parsed.TRUSTED_PROXIES,
  };
}
