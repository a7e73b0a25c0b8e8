import type { GatewayBindings } from './env';

/**
 * State the gateway keeps per isolate and per key (a route's guard, its weights): made on first
 * use, then kept. Keyed by the environment object first: workerd hands an isolate the same `env`
 * on every request, so that is "once per isolate", and a test that passes its own env gets fresh
 * state.
 */
export function perIsolate<Key, Value>(create: (env: GatewayBindings, key: Key) => Value): (env: GatewayBindings, key: Key) => Value {
  const byEnv = new WeakMap<GatewayBindings, Map<Key, Value>>();
  return (env, key) => {
    let byKey = byEnv.get(env);
    if (!byKey) {
      byKey = new Map();
      byEnv.set(env, byKey);
    }
    let value = byKey.get(key);
    if (value === undefined) {
      value = create(env, key);
      byKey.set(key, value);
    }
    return value;
  };
}
