import { createExecutionContext, waitOnExecutionContext } from 'cloudflare:test';
import { env } from 'cloudflare:workers';

interface FetchHandler {
  fetch(request: Request, env: Cloudflare.Env, ctx: ExecutionContext): Response | Promise<Response>;
}

/** Environments made by `testEnv`: passed to the worker as they are, so they stay one object. */
const wholeEnvs = new WeakSet<object>();

/**
 * The test env with some bindings or vars replaced, as ONE object to reuse across calls. The
 * gateway keeps per-isolate state (breaker views, bulkheads, fallbacks) per env object, as workerd
 * hands an isolate the same env on every request; a test that needs that state to carry from one
 * call to the next passes the same `testEnv` to each.
 */
export function testEnv(overrides: Partial<Cloudflare.Env>): Cloudflare.Env {
  const whole = { ...env, ...overrides };
  wholeEnvs.add(whole);
  return whole;
}

/**
 * Calls a worker's fetch handler inside workerd, as the runtime would, and waits for its
 * `waitUntil` work. `bindings` replaces some of the env (a failing dependency, say) for this call
 * only; a `testEnv(...)` is used as it is.
 */
export async function callWorker(
  worker: FetchHandler,
  path: string,
  init: RequestInit = {},
  bindings: Partial<Cloudflare.Env> = {},
): Promise<Response> {
  const ctx = createExecutionContext();
  const callEnv = wholeEnvs.has(bindings) ? (bindings as Cloudflare.Env) : Object.keys(bindings).length ? { ...env, ...bindings } : env;
  const response = await worker.fetch(new Request(`http://stratus.test${path}`, init), callEnv, ctx);
  await waitOnExecutionContext(ctx);
  return response;
}

/**
 * An address of its own for a test that sends wrong operator tokens: failed attempts are limited
 * per address (workers/gateway/ops/operator-attempts.ts) and a project's test files share one
 * runtime, so wrong tokens sent from the default address would lock the next file out of /_ops.
 * A random /64 of the documentation range (the limiter keys an IPv6 caller by its /64).
 */
export function ownAddress(): string {
  const [a, b] = crypto.getRandomValues(new Uint16Array(2));
  return `2001:db8:${a!.toString(16)}:${b!.toString(16)}::1`;
}

export const json = (body: unknown, headers: Record<string, string> = {}): RequestInit => ({
  method: 'POST',
  headers: { 'content-type': 'application/json', ...headers },
  body: JSON.stringify(body),
});
