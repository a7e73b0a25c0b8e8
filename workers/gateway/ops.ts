import { Hono, type Context } from 'hono';
import { HttpError, notFound, unauthorized } from '../../shared/http/problem';
import type { AppEnv } from '../../shared/middleware/app-env';
import { CHAOS_PATH, readChaosSettings } from '../../shared/middleware/chaos';
import { withPropagation } from '../../shared/observability/propagation';
import { breakerSnapshots } from './breakers';
import { isOperator } from './caller-identity';
import { gatewayConfig } from './config';
import type { GatewayBindings } from './env';
import { routes, serviceName } from './routes';
import { serviceTokenHeader } from './service-tokens';

type OpsContext = Context<AppEnv<GatewayBindings>>;

/** `/_ops`: the operator's endpoints (API.md), behind the admin token. */
export const opsRoutes = new Hono<AppEnv<GatewayBindings>>();

opsRoutes.use(async (c, next) => {
  if (!(await isOperator(c))) {
    throw unauthorized('The operations endpoints need Authorization: Bearer <ADMIN_TOKEN>.', { 'www-authenticate': 'Bearer realm="stratus-ops"' });
  }
  // Operator answers describe the system's state right now: never cache them.
  await next();
  c.header('cache-control', 'no-store');
});

const iso = (ms: number | undefined) => (ms === undefined ? undefined : new Date(ms).toISOString());

/** Each upstream's breaker: `{<upstream>: {state, failureRate, calls, openedAt?, nextProbeAt?}}`. */
opsRoutes.get('/breakers', async (c) => {
  const snapshots = await breakerSnapshots(c.env, (upstream, error) => c.get('log').warn('breaker state unreadable', { upstream, error }));
  const body = Object.fromEntries(
    Object.entries(snapshots).map(([upstream, s]) => [
      upstream,
      { state: s.state, failureRate: s.failureRate, calls: s.calls, openedAt: iso(s.openedAt), nextProbeAt: iso(s.nextProbeAt), transitions: s.transitions },
    ]),
  );
  return c.json(body);
});

/** The service a chaos request names, after the chaos switch itself was checked. */
function chaosTarget(c: OpsContext) {
  if (!gatewayConfig(c.env).ALLOW_CHAOS) {
    throw new HttpError(403, { type: 'chaos-disabled', detail: 'Fault injection is off here: set ALLOW_CHAOS=true to allow it (it is on in local development).' });
  }
  const name = c.req.param('service');
  const route = routes.find((r) => serviceName(r) === name);
  if (!route) throw notFound(`No service named ${JSON.stringify(name)}; services are ${[...new Set(routes.map(serviceName))].join(', ')}.`);
  return route;
}

/** Sends the chaos switch to the service itself, which shares it with all its isolates. */
async function sendChaos(c: OpsContext, method: 'PUT' | 'DELETE', body?: string): Promise<Response> {
  const route = chaosTarget(c);
  const headers = withPropagation(new Headers(body ? { 'content-type': 'application/json' } : {}), c.get('requestId'), c.get('trace'));
  const service = serviceName(route);
  const token = await serviceTokenHeader(c.env, { service, identity: null, requestId: c.get('requestId'), scope: 'ops' });
  for (const [name, value] of Object.entries(token)) headers.set(name, value);
  let response: Response;
  try {
    response = await c.env[route.service].fetch(
      new Request(`https://${service}.internal${CHAOS_PATH}`, { method, headers, body, signal: AbortSignal.timeout(gatewayConfig(c.env).READY_TIMEOUT_MS) }),
    );
  } catch (error) {
    c.get('log').warn('chaos switch unreachable', { upstream: service, error });
    throw new HttpError(502, { detail: `The ${service} service could not be reached to change its chaos settings.` });
  }
  if (!response.ok) {
    c.get('log').warn('chaos switch refused by service', { upstream: service, status: response.status });
    throw new HttpError(502, { detail: `The ${service} service did not take the chaos settings (${response.status}).` });
  }
  c.get('log').warn(method === 'PUT' ? 'chaos on' : 'chaos off', { upstream: service });
  return response;
}

opsRoutes.put('/chaos/:service', async (c) => {
  chaosTarget(c);
  const settings = await readChaosSettings(c.req.raw);
  const response = await sendChaos(c, 'PUT', JSON.stringify(settings));
  const { chaos } = (await response.json()) as { chaos: unknown };
  return c.json({ service: c.req.param('service'), chaos });
});

opsRoutes.delete('/chaos/:service', async (c) => {
  await sendChaos(c, 'DELETE');
  return c.body(null, 204);
});

// Anything else under /_ops is the admin's 404, not the public one (auth ran first).
opsRoutes.all('*', (c) => {
  throw notFound(`No operations endpoint ${c.req.method} ${c.req.path}.`);
});
