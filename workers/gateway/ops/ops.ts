import { Hono, type Context, type MiddlewareHandler } from 'hono';
import type { ContentfulStatusCode, StatusCode } from 'hono/utils/http-status';
import { badRequest, HttpError, notFound, unauthorized, validationFailed } from '../../../shared/http/problem';
import type { AppEnv } from '../../../shared/middleware/app-env';
import { CHAOS_PATH, readChaosSettings } from '../../../shared/middleware/chaos';
import { toFieldErrors, validate } from '../../../shared/validation/validate';
import { sagaListQuery } from '../../orders/order-schemas';
import { operatorActionBody } from '../../orders/saga-routes';
import { z } from 'zod';
import { breakersView } from './live-views';
import { opsLiveTicket } from './ops-live-routes';
import { isOperator } from '../auth/caller-identity';
import { gatewayConfig } from '../config';
import type { GatewayBindings } from '../env';
import { metricTotals } from './metrics';
import { opsMetricsView } from './ops-metrics';
import { isVersioned, routeWeights, serviceTargets, versionsOf, weightsBodySchema, type ServiceTarget, type VersionedRoute } from '../traffic/route-versions';
import { routes } from '../routes';
import { deleteDeadLetter, listDeadLetters, redriveDeadLetter, redriveDeadLetters } from './dead-letters';
import { countFailedAttempt, refuseLockedOut } from './operator-attempts';
import { flagRoutes } from './flag-routes';
import { rolloutRoutes, runningRollout } from './rollout-routes';
import { opsCall, opsForward, opsGet, type OpsAnswer } from './ops-services';
import { OUTBOX_SERVICES, type OutboxService } from './outbox-services';
import { telemetryRoutes } from './telemetry-routes';
import { runGatewayCron } from '../monitoring/gateway-cron';
import { monitoringConfig } from '../monitoring/monitoring-config';
import { originPoolsView } from './origin-pools-view';

type OpsContext = Context<AppEnv<GatewayBindings>>;

/** `/_ops`: the operator's endpoints (docs/api.md), behind the admin token. */
export const opsRoutes = new Hono<AppEnv<GatewayBindings>>();

opsRoutes.use(async (c, next) => {
  // One metrics series for the operator endpoints (the dashboard polls them), not `unmatched`.
  c.set('routeLabel', '/_ops/*');
  // Failed tokens are limited per address (operator-attempts.ts): a locked-out address is refused first.
  await refuseLockedOut(c);
  if (!(await isOperator(c))) {
    const refusal = unauthorized('The operations endpoints need Authorization: Bearer <ADMIN_TOKEN>.', { 'www-authenticate': 'Bearer realm="stratus-ops"' });
    // Only a token presented and wrong is a guess; a request with none (the dashboard before
    // sign-in, a monitor, a curious browser) is refused without counting against its address.
    if (c.req.header('authorization') === undefined) throw refusal;
    await countFailedAttempt(c, refusal);
  }
  // Operator answers describe the system's state right now: never cache them.
  await next();
  c.header('cache-control', 'no-store');
});

// A one-time ticket for the dashboard's socket (ops-live-routes.ts).
opsRoutes.route('/live', opsLiveTicket);

// Traces and logs (telemetry-routes.ts), behind the token like everything here.
opsRoutes.route('/', telemetryRoutes);

const iso = (ms: number | undefined) => (ms === undefined ? undefined : new Date(ms).toISOString());

/** Each upstream's breaker: `{<upstream>: {state, failureRate, calls, openedAt?, nextProbeAt?}}` (live-views.ts). */
opsRoutes.get('/breakers', async (c) => c.json(await breakersView(c.env, (upstream, error) => c.get('log').warn('breaker state unreadable', { upstream, error }))));

/** Each pool of HTTP origins: its origins, their health and their share of its traffic (origin-pools-view.ts). */
opsRoutes.get('/origins', async (c) => c.json(await originPoolsView(c)));

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
  return { versions: versionsOf(route), weights: choice.weights, allow: choice.allow };
}

/** The same weights, whatever order they were written in. */
const sameSplit = (a: Readonly<Record<string, number>>, b: Readonly<Record<string, number>>) =>
  Object.keys(a).length === Object.keys(b).length && Object.entries(a).every(([version, weight]) => b[version] === weight);

/** Canary / blue-green weights of every route with versions: `{<route>: {versions, weights, allow}}`. */
opsRoutes.get('/routes', async (c) => {
  const entries = await Promise.all(routes.filter(isVersioned).map(async (route) => [route.name, await currentWeights(c, route)] as const));
  return c.json(Object.fromEntries(entries));
});

/**
 * New weights for a route, for every isolate, without a redeploy: this isolate uses them at once,
 * the others within ROUTE_WEIGHTS_REFRESH_MS. Whole percents naming exactly the route's versions,
 * summing to 100; anything else is a 400 and changes nothing. `allow` (`{<version>: [user ids]}`)
 * replaces the allow lists ("employees first"); left out, they are kept. While an automated
 * rollout runs, only the allow lists may change (409 otherwise).
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
  // An automated rollout owns the weights while it runs (rollout-routes.ts); allow lists stay the operator's.
  const rollout = await runningRollout(c.env, route.name);
  if (rollout && !sameSplit(before.weights, parsed.data.weights)) {
    throw new HttpError(409, { type: 'rollout-active', detail: `A rollout of ${route.name} is moving its weights (now ${rollout.canaryPercent}% on ${rollout.canary}); abort it first (DELETE /_ops/rollouts/${route.name}), or change only allow.` });
  }
  const choice = await routeWeights(c.env, route).set(parsed.data.weights, parsed.data.allow);
  c.get('log').warn('route weights changed', { route: route.name, from: before.weights, to: choice.weights, allowed: Object.values(choice.allow).reduce((n, ids) => n + ids.length, 0) });
  return c.json({ [route.name]: { versions: versionsOf(route), weights: choice.weights, allow: choice.allow } });
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

/**
 * An operator's action on a STUCK saga (`retry`, `compensate`, `resolve` with `{note?}`), passed to
 * the orders service, which records it in the saga's timeline. Its answer (the order, a 409 where
 * the action does not apply, a 404) is the operator's.
 */
const sagaActionParams = z.object({ orderId: z.string().regex(/^ord_[0-9a-f]{32}$/, 'not an order id'), action: z.enum(['retry', 'compensate', 'resolve']) });
opsRoutes.post('/sagas/:orderId/:action', validate('param', sagaActionParams), validate('json', operatorActionBody), async (c) => {
  const { orderId, action } = c.req.valid('param');
  const body = c.req.valid('json');
  const answer = await opsForward(c, 'ORDERS', `/sagas/${orderId}/${action}`, { body });
  c.get('log').warn('operator saga action', { orderId, action, note: body.note, status: answer.status });
  return passThrough(c, answer);
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

/** QStash's own failure, as the operator's: its 404 is "no such dead letter", anything else a 502. */
function deadLetterFailure(c: OpsContext, error: unknown, doing: string, dlqId?: string): never {
  if (error instanceof HttpError) throw error;
  if (dlqId !== undefined && (error as { status?: unknown }).status === 404) throw notFound(`No dead letter ${dlqId}.`);
  c.get('log').warn(`dead letters not ${doing}`, { error });
  throw new HttpError(502, { detail: `QStash could not be reached to ${doing === 'redriven' ? 'redrive' : 'delete'} dead letters.` });
}

/** Sends one dead letter to its consumer again (a new message; the consumer's inbox keeps it once). */
opsRoutes.post('/dlq/:dlqId/redrive', async (c) => {
  const dlqId = c.req.param('dlqId');
  let messageId: string | null;
  try {
    messageId = await redriveDeadLetter(c.env, dlqId);
  } catch (error) {
    deadLetterFailure(c, error, 'redriven', dlqId);
  }
  if (messageId === null) throw notFound(`No dead letter ${dlqId}.`);
  c.get('log').warn('dead letter redriven', { dlqId, messageId });
  return c.json({ redriven: 1, messageIds: [messageId] });
});

/**
 * Sends every dead letter, or every one of `{topic}`, to its consumer again: `POST /_ops/dlq/redrive`.
 * Registered as `/dlq/:dlqId` taking only `redrive`: Hono's RegExpRouter cannot hold a literal
 * `/dlq/redrive` beside `/dlq/:dlqId/redrive` (nor a `{redrive}` pattern there), and a single
 * route it cannot hold makes the app's SmartRouter fall back to the TrieRouter for every request
 * of the gateway, the hot path included (test/workers/gateway/router.test.ts).
 */
const redriveBody = z.strictObject({ topic: z.string().min(1).max(100).optional() });
const onlyRedriveAll: MiddlewareHandler<AppEnv<GatewayBindings>> = async (c, next) => {
  if (c.req.param('dlqId') !== 'redrive') throw notFound(`No route for ${c.req.method} ${c.req.path}.`);
  await next();
};
opsRoutes.post('/dlq/:dlqId', onlyRedriveAll, validate('json', redriveBody), async (c) => {
  const { topic } = c.req.valid('json');
  try {
    const { messageIds, more } = await redriveDeadLetters(c.env, topic);
    c.get('log').warn('dead letters redriven', { topic, redriven: messageIds.length, more });
    return c.json({ redriven: messageIds.length, messageIds, more });
  } catch (error) {
    deadLetterFailure(c, error, 'redriven');
  }
});

/** Each outbox: pending, sent and dead counts, and the rows parked as dead (retried only by an operator). */
opsRoutes.get('/outbox', async (c) => {
  const entries = await Promise.all(
    Object.entries(OUTBOX_SERVICES).map(async ([service, binding]) => {
      try {
        return [service, await opsGet(c, binding, '/_outbox')] as const;
      } catch (error) {
        return [service, { error: error instanceof Error ? error.message : String(error) }] as const;
      }
    }),
  );
  return c.json(Object.fromEntries(entries));
});

/** Un-parks one dead outbox row (`{id}`) or all of a service's, and publishes them at once. */
const outboxRetryBody = z.strictObject({ id: z.string().min(1).max(200).optional() });
opsRoutes.post('/outbox/:service/retry', validate('json', outboxRetryBody), async (c) => {
  const service = c.req.param('service');
  if (!(service in OUTBOX_SERVICES)) throw notFound(`No outbox named ${JSON.stringify(service)}; outboxes are ${Object.keys(OUTBOX_SERVICES).join(', ')}.`);
  const answer = await opsForward(c, OUTBOX_SERVICES[service as OutboxService], '/_outbox/retry', { body: c.req.valid('json') });
  c.get('log').warn('dead outbox rows retried', { service, id: c.req.valid('json').id, status: answer.status });
  return passThrough(c, answer);
});

/**
 * Runs a service's scheduled handler now (its cron's work: outbox heartbeat, retention, sweeps),
 * through the service binding. `npm run dev` calls it on each worker's own cron schedule, since
 * `wrangler dev` fires no cron triggers; an operator may call it to run that work at once. The
 * work is idempotent, so an extra run is harmless.
 */
const CRON_SERVICES = { catalog: 'CATALOG', orders: 'ORDERS', payments: 'PAYMENTS', notifications: 'NOTIFICATIONS', ledger: 'LEDGER', users: 'USERS' } as const;
const cronBody = z.strictObject({ cron: z.string().min(1).max(100).default('* * * * *') });
opsRoutes.post('/crons/:service', validate('json', cronBody), async (c) => {
  const service = c.req.param('service');
  const { cron } = c.req.valid('json');
  if (service === 'gateway') {
    // The gateway's own cron (the synthetic check, the alerts kept evaluating), run in this isolate.
    const scheduledTime = Date.now();
    const result = await runGatewayCron(c.env, c.executionCtx as ExecutionContext);
    c.get('log').info('scheduled handler ran', { service, cron, outcome: 'ok' });
    return c.json({ service, cron, scheduledTime: new Date(scheduledTime).toISOString(), outcome: 'ok', ...result });
  }
  if (!(service in CRON_SERVICES)) throw notFound(`No service named ${JSON.stringify(service)}; services are gateway, ${Object.keys(CRON_SERVICES).join(', ')}.`);
  const target = c.env[CRON_SERVICES[service as keyof typeof CRON_SERVICES]] as Fetcher & ScheduledTrigger;
  const scheduledTime = Date.now();
  const result = await target.scheduled({ cron, scheduledTime });
  // workerd answers the handler's outcome with the service_binding_extra_handlers flag, else nothing.
  const outcome = result?.outcome ?? 'ok';
  c.get('log').info('scheduled handler ran', { service, cron, outcome });
  return c.json({ service, cron, scheduledTime: new Date(scheduledTime).toISOString(), outcome }, outcome === 'ok' ? 200 : 502);
});

/** A service binding's `scheduled()` (workerd's Fetcher has it; workers-types leaves it out). */
interface ScheduledTrigger {
  scheduled(options: { cron?: string; scheduledTime?: number }): Promise<{ outcome: string; noRetry: boolean } | undefined>;
}

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

// Feature flags and automated canary rollouts: releases changed at run time (flag-routes.ts, rollout-routes.ts).
opsRoutes.route('/', flagRoutes);
opsRoutes.route('/', rolloutRoutes);

/**
 * Every alert rule's state (monitoring/alert-evaluator.ts): `{items:[{rule, state, since, value?}]}`,
 * `state` one of inactive, pending, firing, resolved. Reading it also starts the evaluator.
 */
opsRoutes.get('/alerts', async (c) => {
  // A bad ALERT_RULES is the operator's to see here, named, not a 500 from inside the object.
  try {
    monitoringConfig(c.env);
  } catch (error) {
    throw new HttpError(503, { type: 'alerts-misconfigured', detail: error instanceof Error ? error.message : String(error) });
  }
  const items = await c.env.ALERTS.get(c.env.ALERTS.idFromName('global')).list();
  return c.json({ items });
});

// Anything else under /_ops is the admin's 404, not the public one (auth ran first).
opsRoutes.all('*', (c) => {
  throw notFound(`No operations endpoint ${c.req.method} ${c.req.path}.`);
});
