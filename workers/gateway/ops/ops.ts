import { Hono, type Context } from 'hono';
import type { ContentfulStatusCode, StatusCode } from 'hono/utils/http-status';
import { badRequest, HttpError, notFound, unauthorized, validationFailed } from '../../../shared/http/problem';
import type { AppEnv } from '../../../shared/middleware/app-env';
import { CHAOS_PATH, readChaosSettings } from '../../../shared/middleware/chaos';
import { toFieldErrors, validate } from '../../../shared/validation/validate';
import { sagaListQuery } from '../../orders/order-schemas';
import { breakerSnapshots } from '../resilience/breakers';
import { isOperator } from '../auth/caller-identity';
import { gatewayConfig } from '../config';
import type { GatewayBindings } from '../env';
import { metricTotals } from './metrics';
import { opsMetricsView } from './ops-metrics';
import { isVersioned, routeWeights, serviceTargets, versionsOf, weightsBodySchema, type ServiceTarget, type VersionedRoute } from '../traffic/route-versions';
import { routes } from '../routes';
import { deleteDeadLetter, listDeadLetters } from './dead-letters';
import { opsCall, opsForward, opsGet, type OpsAnswer } from './ops-services';

type OpsContext = Context<AppEnv<GatewayBindings>>;

/** `/_ops`: the operator's endpoints (docs/api.md), behind the admin token. */
export const opsRoutes = new Hono<AppEnv<GatewayBindings>>();

opsRoutes.use(async (c, next) => {
  // One metrics series for the operator endpoints (the dashboard polls them), not `unmatched`.
  c.set('routeLabel', '/_ops/*');
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

/**
 * The dashboard's numbers (ops-metrics.ts): per-route request totals and latency histograms, and
 * the rate-limit and cache hit ratios, from the same totals `/metrics` renders.
 */
opsRoutes.get('/metrics', async (c) => c.json(opsMetricsView(await metricTotals(c), Date.now())));

/** The service a chaos request names, after the chaos switch itself was checked. */
function chaosTarget(c: OpsContext) {
  assertChaosAllowed(c);
  const name = c.req.param('service');
  // Versions of a service are services here too: `catalog-canary` breaks the canary alone.
  const targets = serviceTargets();
  const target = targets.find((t) => t.name === name);
  if (!target) throw notFound(`No service named ${JSON.stringify(name)}; services are ${targets.map((t) => t.name).join(', ')}.`);
  return target;
}

function assertChaosAllowed(c: OpsContext) {
  if (!gatewayConfig(c.env).ALLOW_CHAOS) {
    throw new HttpError(403, { type: 'chaos-disabled', detail: 'Fault injection is off here: set ALLOW_CHAOS=true to allow it (it is on in local development).' });
  }
}

/** A call to a service's own chaos switch (`/_chaos`), which shares it with all its isolates: its `{chaos}` answer. */
async function callChaosSwitch(c: OpsContext, target: ServiceTarget, method: 'GET' | 'PUT' | 'DELETE', body?: unknown) {
  return (await opsCall(c, target, CHAOS_PATH, { method, body })).body as { chaos: unknown } | undefined;
}

/**
 * Every service's chaos settings now (`null`: none): `{<service>: settings | null}`, so the
 * dashboard's toggles start from the truth. A service that cannot be asked is left out; the log says which.
 */
opsRoutes.get('/chaos', async (c) => {
  assertChaosAllowed(c);
  const entries = await Promise.all(
    serviceTargets().map(async (target) => {
      try {
        return [target.name, (await callChaosSwitch(c, target, 'GET'))?.chaos] as const;
      } catch (error) {
        // An unreachable or refusing service was logged by opsCall; anything else is logged here.
        if (!(error instanceof HttpError)) c.get('log').warn('chaos settings unreadable', { upstream: target.name, error });
        return null;
      }
    }),
  );
  return c.json(Object.fromEntries(entries.filter((entry) => entry !== null)));
});

opsRoutes.put('/chaos/:service', async (c) => {
  const target = chaosTarget(c);
  const settings = await readChaosSettings(c.req.raw);
  const answer = await callChaosSwitch(c, target, 'PUT', settings);
  c.get('log').warn('chaos on', { upstream: target.name });
  return c.json({ service: target.name, chaos: answer?.chaos });
});

opsRoutes.delete('/chaos/:service', async (c) => {
  const target = chaosTarget(c);
  await callChaosSwitch(c, target, 'DELETE');
  c.get('log').warn('chaos off', { upstream: target.name });
  return c.body(null, 204);
});

/** A versioned route by name: 404 for an unknown route or one without versions. */
function versionedRoute(c: OpsContext): VersionedRoute {
  const name = c.req.param('name');
  const route = routes.find((r) => r.name === name);
  if (!route || !isVersioned(route)) {
    const versioned = routes.filter(isVersioned).map((r) => r.name);
    throw notFound(`No route with versions named ${JSON.stringify(name)}; routes with versions are ${versioned.join(', ') || 'none'}.`);
  }
  return route;
}

/** A route's weights as its Durable Object holds them now (the defaults if never set). */
async function currentWeights(c: OpsContext, route: VersionedRoute) {
  const log = c.get('log');
  const choice = await routeWeights(c.env, route).current((problem, error) => log.warn(`route weights: ${problem}`, { route: route.name, error }), 0);
  return { versions: versionsOf(route), weights: choice.weights };
}

/** Canary / blue-green weights of every route with versions: `{<route>: {versions, weights}}`. */
opsRoutes.get('/routes', async (c) => {
  const entries = await Promise.all(routes.filter(isVersioned).map(async (route) => [route.name, await currentWeights(c, route)] as const));
  return c.json(Object.fromEntries(entries));
});

/**
 * New weights for a route, for every isolate, without a redeploy: this isolate uses them at once,
 * the others within ROUTE_WEIGHTS_REFRESH_MS. Whole percents naming exactly the route's versions,
 * summing to 100; anything else is a 400 and changes nothing.
 */
opsRoutes.put('/routes/:name', async (c) => {
  const route = versionedRoute(c);
  let body: unknown;
  try {
    body = await c.req.json();
  } catch {
    throw badRequest('The request body is not valid JSON.');
  }
  const parsed = weightsBodySchema(route).safeParse(body);
  if (!parsed.success) throw validationFailed(toFieldErrors(parsed.error));
  const before = await currentWeights(c, route);
  const choice = await routeWeights(c.env, route).set(parsed.data.weights);
  c.get('log').warn('route weights changed', { route: route.name, from: before.weights, to: choice.weights });
  return c.json({ [route.name]: { versions: versionsOf(route), weights: choice.weights } });
});

/**
 * Sagas and their step timelines, newest first, optionally of one status (the orders service's
 * view). The query is checked here with the orders service's own schema, so a bad one is the
 * operator's 400 with its fields, not the 502 of a service that refused the gateway's call.
 */
opsRoutes.get('/sagas', validate('query', sagaListQuery), async (c) => {
  const query = new URLSearchParams();
  for (const name of ['status', 'limit']) {
    const value = c.req.query(name);
    if (value !== undefined) query.set(name, value);
  }
  return c.json(await opsGet(c, 'ORDERS', `/sagas${query.size ? `?${query}` : ''}`));
});

/** Deliveries QStash gave up on, with the consumer's last answer; `?cursor=` pages. */
opsRoutes.get('/dlq', async (c) => {
  try {
    return c.json(await listDeadLetters(c.env, c.req.query('cursor') || undefined));
  } catch (error) {
    if (error instanceof HttpError) throw error;
    c.get('log').warn('dead-letter queue unreadable', { error });
    throw new HttpError(502, { detail: 'QStash could not be reached to read the dead-letter queue.' });
  }
});

/** Drops one dead letter (after it was dealt with). */
opsRoutes.delete('/dlq/:dlqId', async (c) => {
  try {
    await deleteDeadLetter(c.env, c.req.param('dlqId'));
  } catch (error) {
    if (error instanceof HttpError) throw error;
    // QStash's own 404 is "no such dead letter"; anything else (unreachable, refused) is ours to report.
    if ((error as { status?: unknown }).status === 404) throw notFound(`No dead letter ${c.req.param('dlqId')}.`);
    c.get('log').warn('dead letter not deleted', { error });
    throw new HttpError(502, { detail: 'QStash could not be reached to delete the dead letter.' });
  }
  return c.body(null, 204);
});

/**
 * How long the ledger may take to answer a rebuild's start: it runs the rebuild's first slice
 * before answering (200 when that finished it, else 202), far longer than a readiness probe.
 */
export const PROJECTION_REBUILD_TIMEOUT_MS = 60_000;

/** The ledger's answer as the operator's: its status, JSON body, Location and Retry-After. */
const passThrough = (c: OpsContext, answer: OpsAnswer) => {
  if (answer.body === undefined) return c.body(null, answer.status as StatusCode, answer.headers);
  return c.body(JSON.stringify(answer.body), answer.status as ContentfulStatusCode, { ...answer.headers, 'content-type': answer.contentType });
};
const ledgerPrefixes = { public: '/_ops', upstream: '/ledger' };

/**
 * Rebuilds one of the ledger's projections from zero (issue 6): the ledger's own
 * `POST /ledger/projections/:name/rebuild`, called with the ops scope. 200 when done at once,
 * 202 with a Location (GET below) while it runs on; an unknown projection stays the ledger's 404.
 * Only what is the gateway's trouble is a 502 (ops-services.ts).
 */
opsRoutes.post('/projections/:name/rebuild', async (c) => {
  const name = c.req.param('name');
  const answer = await opsForward(c, 'LEDGER', `/ledger/projections/${encodeURIComponent(name)}/rebuild`, {
    timeoutMs: PROJECTION_REBUILD_TIMEOUT_MS,
    prefixes: ledgerPrefixes,
  });
  c.get('log').warn('projection rebuild', { projection: name, status: answer.status });
  return passThrough(c, answer);
});

/** A projection's live position, the event store's head, and its current or last rebuild. */
opsRoutes.get('/projections/:name', async (c) => {
  const name = c.req.param('name');
  return passThrough(c, await opsForward(c, 'LEDGER', `/ledger/projections/${encodeURIComponent(name)}`, { method: 'GET', prefixes: ledgerPrefixes }));
});

// Anything else under /_ops is the admin's 404, not the public one (auth ran first).
opsRoutes.all('*', (c) => {
  throw notFound(`No operations endpoint ${c.req.method} ${c.req.path}.`);
});
