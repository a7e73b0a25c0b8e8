import { createExecutionContext, waitOnExecutionContext } from 'cloudflare:test';
import { env } from 'cloudflare:workers';

interface FetchHandler {
  fetch(request: Request, env: Cloudflare.Env, ctx: ExecutionContext): Response | Promise<Response>;
}

/**
 * Calls a worker's fetch handler inside workerd, as the runtime would, and waits for its
 * `waitUntil` work. `bindings` replaces some of the env (a failing dependency, say).
 */
export async function callWorker(
  worker: FetchHandler,
  path: string,
  init: RequestInit = {},
  bindings: Partial<Cloudflare.Env> = {},
): Promise<Response> {
  const ctx = createExecutionContext();
  const testEnv = Object.keys(bindings).length ? { ...env, ...bindings } : env;
  const response = await worker.fetch(new Request(`http://stratus.test${path}`, init), testEnv, ctx);
  await waitOnExecutionContext(ctx);
  return response;
}

export const json = (body: unknown, headers: Record<string, string> = {}): RequestInit => ({
  method: 'POST',
  headers: { 'content-type': 'application/json', ...headers },
  body: JSON.stringify(body),
});
