import type { ZodType } from 'zod';

/**
 * A worker's configuration from its env, parsed once per environment object (workerd hands an
 * isolate the same env on every request) and optionally shaped further. A bad variable is one
 * clear error naming it (never its value: it may be a secret), not an `undefined` deep inside a
 * request.
 */
export function envConfig<Parsed, Config = Parsed>(
  schema: ZodType<Parsed>,
  worker: string,
  shape: (parsed: Parsed) => Config = (parsed) => parsed as unknown as Config,
): (env: object) => Config {
  const cache = new WeakMap<object, Config>();
  return (env) => {
    let config = cache.get(env);
    if (!config) {
      const result = schema.safeParse(env);
      if (!result.success) {
        const problems = result.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; ');
        throw new Error(`invalid ${worker} configuration: ${problems}`);
      }
      config = shape(result.data);
      cache.set(env, config);
    }
    return config;
  };
}
