import { z } from 'zod';
import type { GatewayBindings } from './env';
import { routes } from './routes';

const flag = z
  .enum(['true', 'false', '1', '0', ''])
  .optional()
  .transform((value) => value === 'true' || value === '1');
const milliseconds = (fallback: number, min: number) => z.coerce.number().int().min(min).default(fallback);

const positive = z.number().int().positive();
const percent = z.number().gt(0).max(100);

/** Per-route overrides of the resilience policies, as JSON in `ROUTE_POLICIES` (route-policy.ts). */
const policyOverrideSchema = z
  .object({
    timeoutMs: positive.optional(),
    retry: z
      .union([z.literal(false), z.object({ maxAttempts: positive, baseDelayMs: positive, maxDelayMs: positive }).partial().strict()])
      .optional(),
    breaker: z
      .union([z.literal(false), z.object({
        failureRateThreshold: percent,
        slowCallRateThreshold: percent,
        slowCallDurationMs: positive,
        minimumCalls: positive,
        slidingWindowMs: positive,
        windowBuckets: positive,
        openDurationMs: positive,
        halfOpenMaxCalls: positive,
        maxWaitInHalfOpenMs: positive,
      })
      .partial()
      .strict()])
      .optional(),
    bulkhead: z.object({ maxConcurrent: positive, maxQueue: z.number().int().min(0) }).partial().strict().optional(),
  })
  .strict();

const routeNames = new Set(routes.map((route) => route.name));

const routePolicies = z
  .string()
  .optional()
  .transform((text, ctx) => {
    if (!text?.trim()) return {};
    try {
      return JSON.parse(text) as unknown;
    } catch {
      ctx.addIssue({ code: 'custom', message: 'not valid JSON' });
      return z.NEVER;
    }
  })
  .pipe(
    z.record(
      z.string().refine((name) => routeNames.has(name), { message: `unknown route; routes are ${[...routeNames].join(', ')}` }),
      policyOverrideSchema,
    ),
  );

const configSchema = z.object({
  ADMIN_TOKEN: z.string().min(1).optional(),
  ALLOW_CHAOS: flag,
  CORS_ORIGINS: z
    .string()
    .optional()
    .transform((value) => (value ?? '').split(',').map((origin) => origin.trim()).filter(Boolean)),
  // 0 sends metrics as soon as a request ends (tests); a deadline of 0 would fail every check.
  METRICS_FLUSH_INTERVAL_MS: milliseconds(1_000, 0),
  READY_TIMEOUT_MS: milliseconds(2_000, 1),
  // e.g. {"catalog":{"timeoutMs":2000,"breaker":{"openDurationMs":5000}}}
  ROUTE_POLICIES: routePolicies,
  // Closed-state breaker outcomes are reported to the Durable Object at most this often.
  BREAKER_REPORT_INTERVAL_MS: milliseconds(1_000, 0),
});

export type GatewayConfig = z.infer<typeof configSchema>;

const cache = new WeakMap<object, GatewayConfig>();

/**
 * The gateway's configuration, parsed once per environment object: a bad var is one clear error
 * naming the variable, not an `undefined` deep inside a request.
 */
export function gatewayConfig(env: GatewayBindings): GatewayConfig {
  let config = cache.get(env);
  if (!config) {
    const parsed = configSchema.safeParse(env);
    if (!parsed.success) {
      const problems = parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; ');
      throw new Error(`invalid gateway configuration: ${problems}`);
    }
    config = parsed.data;
    cache.set(env, config);
  }
  return config;
}
