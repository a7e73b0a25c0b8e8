import { z } from 'zod';
import type { GatewayBindings } from './env';

const flag = z
  .enum(['true', 'false', '1', '0', ''])
  .optional()
  .transform((value) => value === 'true' || value === '1');
const milliseconds = (fallback: number, min: number) => z.coerce.number().int().min(min).default(fallback);

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
