import type { Context } from 'hono';
import { HttpError } from '../../shared/http/problem';
import type { AppEnv } from '../../shared/middleware/app-env';
import { withPropagation } from '../../shared/observability/propagation';
import { gatewayConfig } from './config';
import type { GatewayBindings, ServiceBindings } from './env';
import { serviceTokenHeader } from './service-tokens';

/**
 * A GET to a service's operator endpoint (e.g. the orders service's /sagas), with a service token
 * carrying the ops scope and the operator's deadline. Answers the parsed JSON; a service that
 * cannot be reached or refuses is a 502 naming it.
 */
export async function opsGet<T>(c: Context<AppEnv<GatewayBindings>>, binding: keyof ServiceBindings, path: string): Promise<T> {
  const service = binding.toLowerCase();
  const headers = withPropagation(new Headers(), c.get('requestId'), c.get('trace'));
  const token = await serviceTokenHeader(c.env, { service, identity: null, requestId: c.get('requestId'), scope: 'ops' });
  for (const [name, value] of Object.entries(token)) headers.set(name, value);
  let response: Response;
  try {
    response = await c.env[binding].fetch(new Request(`https://${service}.internal${path}`, { headers, signal: AbortSignal.timeout(gatewayConfig(c.env).READY_TIMEOUT_MS) }));
  } catch (error) {
    c.get('log').warn('ops call unreachable', { upstream: service, path, error });
    throw new HttpError(502, { detail: `The ${service} service could not be reached.` });
  }
  if (!response.ok) {
    c.get('log').warn('ops call refused', { upstream: service, path, status: response.status });
    throw new HttpError(502, { detail: `The ${service} service answered ${response.status}.` });
  }
  return (await response.json()) as T;
}
