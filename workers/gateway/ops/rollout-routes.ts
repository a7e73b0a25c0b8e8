import { Hono, type Context } from 'hono';
import { z } from 'zod';
import { badRequest, HttpError, notFound, validationFailed } from '../../../shared/http/problem';
import type { AppEnv } from '../../../shared/middleware/app-env';
import { rolloutBodySchema, type RolloutState } from '../../../shared/routing/canary-rollout';
import { toFieldErrors } from '../../../shared/validation/validate';
import type { GatewayBindings } from '../env';
import { routes } from '../routes';
import { isVersioned, routeUpstream, versionsOf, type VersionedRoute } from '../traffic/route-versions';

type Ctx = Context<AppEnv<GatewayBindings>>;

const iso = (ms: number | undefined) => (ms === undefined ? undefined : new Date(ms).toISOString());

/** A rollout as the operator reads it: its plan in the body's terms, times as ISO 8601. */
export function describeRollout(state: RolloutState) {
  const { plan } = state;
  return {
    route: state.route,
    canary: state.canary,
    stable: state.stable,
    status: state.status,
    steps: plan.steps,
    holdSeconds: plan.holdMs / 1000,
    maxErrorRate: plan.maxErrorRate,
    maxP99Ms: plan.maxP99Ms,
    minRequests: plan.minRequests,
    step: state.step + 1,
    canaryPercent: state.canaryPercent,
    startedAt: iso(state.startedAt),
    stepStartedAt: iso(state.stepStartedAt),
    endedAt: iso(state.endedAt),
    transitions: state.transitions.map((t) => ({ ...t, at: iso(t.at) })),
  };
}

/** The rollout object of a route (one per route, named after it). */
export const rolloutObject = (env: GatewayBindings, route: string) => env.ROLLOUTS.get(env.ROLLOUTS.idFromName(route));

/** The running rollout of a route, if any: `PUT /_ops/routes/:name` must not move weights under it. */
export async function runningRollout(env: GatewayBindings, route: string): Promise<RolloutState | null> {
  const state = (await rolloutObject(env, route).view()) as RolloutState | null;
  return state?.status === 'running' ? state : null;
}

function versionedRoute(c: Ctx): VersionedRoute {
  const name = c.req.param('route');
  const route = routes.find((r) => r.name === name);
  if (!route || !isVersioned(route)) {
    const versioned = routes.filter(isVersioned).map((r) => r.name);
    throw notFound(`No route with versions named ${JSON.stringify(name)}; routes with versions are ${versioned.join(', ') || 'none'}.`);
  }
  return route;
}

/**
 * The stable version (the one on the route's own binding) and the canary: `version` when given,
 * else the only other version. Anything else is the operator's 400, naming the field.
 */
function versionsFor(route: VersionedRoute, asked: string | undefined): { stable: string; canary: string } {
  const versions = versionsOf(route);
  const stable = versions.find((version) => routeUpstream(route, version).service === route.service);
  if (!stable) throw new HttpError(409, { detail: `${route.name} has no version on its own binding to fall back to.` });
  const others = versions.filter((version) => version !== stable);
  const canary = asked ?? (others.length === 1 ? others[0] : undefined);
  if (canary === undefined) throw validationFailed([{ path: 'version', message: `name the canary: one of ${others.join(', ')}` }]);
  if (!others.includes(canary)) throw validationFailed([{ path: 'version', message: `not a canary of ${route.name}; its canaries are ${others.join(', ')} (${stable} is the stable version)` }]);
  return { stable, canary };
}

/**
 * `/_ops/rollouts`: automated canary rollouts (traffic/canary-rollout-object.ts). Mounted by
 * ops/ops.ts behind the operator token.
 */
export const rolloutRoutes = new Hono<AppEnv<GatewayBindings>>();

/** Every versioned route's rollout, running or the last one ended (null: never had one): the dashboard's view. */
rolloutRoutes.get('/rollouts', async (c) => {
  const entries = await Promise.all(
    routes.filter(isVersioned).map(async (route) => {
      const state = (await rolloutObject(c.env, route.name).view()) as RolloutState | null;
      return [route.name, state ? describeRollout(state) : null] as const;
    }),
  );
  return c.json(Object.fromEntries(entries));
});

/**
 * Starts a rollout: the canary gets the first step's share at once, then each step is held for
 * holdSeconds and promoted while its error rate and p99 stay within bounds; crossing either rolls
 * the canary back to 0 on its own. 201 with the rollout; 409 while one is running on the route.
 */
rolloutRoutes.post('/rollouts/:route', async (c) => {
  const route = versionedRoute(c);
  let body: unknown;
  try {
    body = await c.req.json();
  } catch {
    throw badRequest('The request body is not valid JSON.');
  }
  const parsed = rolloutBodySchema.safeParse(body);
  if (!parsed.success) throw validationFailed(toFieldErrors(parsed.error));
  const { steps, holdSeconds, maxErrorRate, maxP99Ms, minRequests, version } = parsed.data;
  const { stable, canary } = versionsFor(route, version);
  const result = await rolloutObject(c.env, route.name).start({
    route: route.name,
    canary,
    stable,
    versions: versionsOf(route),
    plan: { steps, holdMs: holdSeconds * 1000, maxErrorRate, maxP99Ms, minRequests },
  });
  if (result.kind === 'active') {
    throw new HttpError(409, { type: 'rollout-active', detail: `A rollout of ${route.name} is running (step ${result.state.step + 1}, ${result.state.canaryPercent}% on ${result.state.canary}); abort it first (DELETE /_ops/rollouts/${route.name}).` });
  }
  c.get('log').warn('canary rollout started', { route: route.name, canary, steps });
  return c.json(describeRollout(result.state as RolloutState), 201, { location: `/_ops/rollouts/${route.name}` });
});

/** The route's rollout, running or the last one ended; 404 when it never had one. */
rolloutRoutes.get('/rollouts/:route', async (c) => {
  const route = versionedRoute(c);
  const state = (await rolloutObject(c.env, route.name).view()) as RolloutState | null;
  if (!state) throw notFound(`${route.name} has had no rollout.`);
  return c.json(describeRollout(state));
});

/** An operator stops the running rollout (`{note?}`): the canary goes back to 0 at once. 409 when none is running. */
const abortBody = z.strictObject({ note: z.string().max(500).optional() });
rolloutRoutes.delete('/rollouts/:route', async (c) => {
  const route = versionedRoute(c);
  // The body is optional: a bare DELETE aborts too.
  const text = await c.req.text();
  let body: unknown = {};
  try {
    if (text.trim()) body = JSON.parse(text);
  } catch {
    throw badRequest('The request body is not valid JSON.');
  }
  const parsed = abortBody.safeParse(body);
  if (!parsed.success) throw validationFailed(toFieldErrors(parsed.error));
  const state = (await rolloutObject(c.env, route.name).abort(parsed.data.note)) as RolloutState | null;
  if (!state) throw new HttpError(409, { type: 'no-rollout-running', detail: `No rollout of ${route.name} is running.` });
  return c.json(describeRollout(state));
});
