import type { Context, MiddlewareHandler } from 'hono';
import { getCookie } from 'hono/cookie';
import { z } from 'zod';
import type { Identity } from '../../../shared/http/identity';
import type { AppEnv } from '../../../shared/middleware/app-env';
import { HttpError } from '../../../shared/http/problem';
import { CachedWeights, type StoredSplit } from '../../../shared/routing/cached-weights';
import { allowListProblems, MAX_ALLOWED_USERS, versionWeightsSchema, weightProblems } from '../../../shared/routing/weighted-choice';
import { secretsEqual } from '../../../shared/security/constant-time';
import { countFailedAttempt } from '../ops/operator-attempts';
import { gatewayConfig } from '../config';
import type { GatewayBindings, ServiceBindings } from '../env';
import { routes, serviceName, type Route } from '../routes';
import { perIsolate } from '../per-isolate';
import { VISITOR_COOKIE } from './visitor-cookie';

/**
 * Canary / blue-green routing: which version of a route serves a request. A route with
 * `versions` (routes.ts) sends each caller to one of them, chosen by `WeightedChoice`
 * (shared/routing/weighted-choice.ts) from the route's current weights and a sticky key:
 *
 * - the authenticated user's id when there is one, so a user keeps their version on every
 *   device and every isolate;
 * - else a first-party cookie, `stratus_uid` (a random UUID), which the gateway sets on the
 *   response when the request came without one, so an anonymous browser keeps its version too.
 *
 * The weights live in a `RouteWeights` Durable Object per route, changed by an operator with
 * `PUT /_ops/routes/:name` (ops/ops.ts), and each isolate reads them through a cache (at most once per
 * `ROUTE_WEIGHTS_REFRESH_MS`, 1 s by default; a change made through an isolate is used there at
 * once). Before the weights: an operator's pin (`x-stratus-version` with the ops token, to try a
 * version before it gets traffic), then the route's allow lists (signed-in users sent to a
 * version whatever the weights: "employees first"). The chosen version is kept on the context (`chosenVersion(c)`, for cache keys and
 * metrics), its binding serves the call (proxy.ts), and the response says `x-served-by:
 * <route>@<version>`.
 */

export const SERVED_BY_HEADER = 'x-served-by';
export { VISITOR_COOKIE };
/** Only ids the gateway could have minted are used as keys: a UUID, lower-case, as randomUUID writes it. */
const VISITOR_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const ONE_YEAR_SECONDS = 365 * 24 * 60 * 60;

type Ctx = Context<AppEnv<GatewayBindings>>;
export type VersionedRoute = Route & Required<Pick<Route, 'versions' | 'defaultWeights'>>;

export const isVersioned = (route: Route): route is VersionedRoute => route.versions !== undefined;

/** The versions a route declares, in the order written. */
export const versionsOf = (route: VersionedRoute): string[] => Object.keys(route.versions);

/** Whether these weights name exactly the route's versions (no more, no fewer). */
function namesExactly(route: VersionedRoute, weights: Readonly<Record<string, unknown>>): boolean {
  const versions = versionsOf(route);
  const named = Object.keys(weights);
  return named.length === versions.length && versions.every((version) => Object.hasOwn(weights, version));
}

/** Every reason a route's versions or default weights cannot be used; empty when fine. */
export function routeVersionProblems(route: Route): string[] {
  if (!route.versions) return route.defaultWeights ? [`${route.name}: defaultWeights without versions`] : [];
  if (!route.defaultWeights) return [`${route.name}: versions need defaultWeights`];
  const versioned = route as VersionedRoute;
  const problems = weightProblems(route.defaultWeights).map((problem) => `${route.name}: ${problem}`);
  if (!namesExactly(versioned, route.defaultWeights)) problems.push(`${route.name}: defaultWeights must name exactly the versions ${versionsOf(versioned).join(', ')}`);
  return problems;
}

// The route table is code: a mistake in it stops the gateway at start, not on some request.
const tableProblems = routes.flatMap(routeVersionProblems);
if (tableProblems.length > 0) throw new Error(`invalid route versions: ${tableProblems.join('; ')}`);

/** What ops, readiness and chaos call a binding: `CATALOG` → `catalog`, `CATALOG_CANARY` → `catalog-canary`. */
export const bindingName = (binding: keyof ServiceBindings): string => binding.toLowerCase().replace(/_/g, '-');

/** One upstream a route may call: a binding, and the name of its circuit breaker. */
export interface Upstream {
  /** The breaker's name (and /_ops/breakers key): the route's for its own binding, `<route>@<version>` for another. */
  name: string;
  service: keyof ServiceBindings;
  version?: string;
}

/**
 * The upstream that serves `version` of `route` (the route's own binding without a version). The
 * version on the route's own binding keeps the route's circuit breaker (`catalog`); every other
 * version has its own (`catalog@v2`), so a failing canary is cut off without refusing the
 * stable version's traffic.
 */
export function routeUpstream(route: Route, version?: string): Upstream {
  if (version === undefined) return { name: route.name, service: route.service };
  const service = route.versions?.[version]?.service;
  if (!service) throw new Error(`route ${route.name} has no version ${JSON.stringify(version)}`);
  return { name: service === route.service ? route.name : `${route.name}@${version}`, service, version };
}

/** Every distinct upstream of a route: its own binding first, then each other version's. */
export function routeUpstreams(route: Route): Upstream[] {
  const all = [routeUpstream(route)];
  for (const version of Object.keys(route.versions ?? {})) {
    const upstream = routeUpstream(route, version);
    if (!all.some((known) => known.name === upstream.name)) all.push(upstream);
  }
  return all;
}

/** A service worker the gateway reaches: its name (ops, readiness), binding, and service-token audience. */
export interface ServiceTarget {
  name: string;
  binding: keyof ServiceBindings;
  /** A version of a service runs the service's code, so its tokens name the route's service. */
  audience: string;
}

/** Every service worker behind the gateway, once each: the routes' bindings and their versions'. */
export function serviceTargets(): ServiceTarget[] {
  const targets = new Map<string, ServiceTarget>();
  for (const route of routes) {
    const bindings = [route.service, ...Object.values(route.versions ?? {}).map((version) => version.service)];
    for (const binding of bindings) {
      const name = bindingName(binding);
      if (!targets.has(name)) targets.set(name, { name, binding, audience: serviceName(route) });
    }
  }
  return [...targets.values()];
}

/** The isolate's cached view of a route's weights (per-isolate.ts), backed by its `RouteWeights` Durable Object. */
export const routeWeights = perIsolate((env, route: VersionedRoute): CachedWeights => {
  const namespace = env.ROUTE_WEIGHTS;
  // A stub belongs to the request that made it (workerd refuses I/O across requests): one per read.
  const stub = () => namespace.get(namespace.idFromName(route.name));
  return new CachedWeights({
    store: { get: async () => (await stub().get()) as StoredSplit | null, set: async (split) => (await stub().set(split)) as StoredSplit },
    defaults: route.defaultWeights,
    salt: route.name,
    refreshMs: gatewayConfig(env).ROUTE_WEIGHTS_REFRESH_MS,
    // A deploy that renames or drops a version makes stored weights meaningless: defaults then.
    accepts: (weights) => namesExactly(route, weights),
  });
});

/** Visitor ids minted for requests that came without one: set as a cookie on their response. */
const mintedVisitorIds = new WeakMap<Request, string>();

/**
 * Whom a request is sticky to: the authenticated user, else the `stratus_uid` cookie, else a new
 * random id (then the response sets it as the cookie, see `versionResponseHeaders`). Also the
 * subject feature flags are evaluated for (flags.ts), so flags and versions stick alike.
 */
export function stickyKey(c: Ctx, identity: Identity | null): string {
  if (identity) return identity.userId;
  const cookie = getCookie(c, VISITOR_COOKIE);
  if (cookie && VISITOR_ID.test(cookie)) return cookie;
  let minted = mintedVisitorIds.get(c.req.raw);
  if (!minted) {
    minted = crypto.randomUUID();
    mintedVisitorIds.set(c.req.raw, minted);
  }
  return minted;
}

/**
 * An operator pins their own requests to one version of a versioned route, to try a canary before
 * it gets any traffic: `x-stratus-version: <version>` with the ops token in `x-stratus-ops-token`
 * (its own header: `Authorization` carries the operator's access token on an API route, so they
 * can test as a signed-in user). Both headers stay at the edge (proxy.ts never forwards them).
 */
export const PIN_HEADER = { version: 'x-stratus-version', opsToken: 'x-stratus-ops-token' } as const;

/**
 * The version an operator pinned this request to, or undefined when it names none. A pin without
 * the ops token is a 403 (not ignored: the operator must not believe they tried the canary when
 * the weights chose for them); a wrong token also counts as a failed operator attempt for the
 * address (ops/operator-attempts.ts: after 10 a minute, 429). A version the route does not have is a 400.
 */
async function pinnedVersion(c: Ctx, route: VersionedRoute): Promise<string | undefined> {
  const pinned = c.req.header(PIN_HEADER.version);
  if (pinned === undefined) return undefined;
  const adminToken = gatewayConfig(c.env).ADMIN_TOKEN;
  const token = c.req.header(PIN_HEADER.opsToken);
  if (!adminToken || !token || !(await secretsEqual(token, adminToken))) {
    const refusal = new HttpError(403, {
      type: 'version-pin-refused',
      detail: `${PIN_HEADER.version} is for operators: send the ops token in ${PIN_HEADER.opsToken} with it, or leave it out.`,
    });
    if (token === undefined) throw refusal;
    await countFailedAttempt(c, refusal);
  }
  const versions = versionsOf(route);
  if (!versions.includes(pinned)) throw new HttpError(400, { type: 'unknown-version', detail: `${route.name} has no version ${JSON.stringify(pinned)}; its versions are ${versions.join(', ')}.` });
  return pinned;
}

/**
 * Chooses the version of `route` that serves this request and keeps it on the context; undefined
 * for a route without versions. In order: an operator's pin, the signed-in user's allow list, the
 * weights by the sticky key. Idempotent per request: a second call (say, a cache lookup before
 * the proxy) gets the same answer without another read.
 */
export async function chooseVersion(c: Ctx, route: Route, identity: Identity | null): Promise<string | undefined> {
  if (!isVersioned(route)) return undefined;
  const already = c.get('routeVersion');
  if (already?.route === route.name) return already.version;
  const pinned = await pinnedVersion(c, route);
  if (pinned !== undefined) {
    c.set('routeVersion', { route: route.name, version: pinned });
    return pinned;
  }
  const log = c.get('log');
  const choice = await routeWeights(c.env, route).current((problem, error) => log.warn(`route weights: ${problem}`, { route: route.name, error }));
  const version = (identity ? choice.allowedVersion(identity.userId) : undefined) ?? choice.choose(stickyKey(c, identity));
  c.set('routeVersion', { route: route.name, version });
  return version;
}

/**
 * The version chosen for this request (`v1`, `v2`), or undefined when the route has no versions
 * or none was chosen yet. What a response cache must add to its key: two versions may answer
 * the same URL differently.
 */
export const chosenVersion = (c: Ctx): string | undefined => c.get('routeVersion')?.version;

/** The upstream (binding and breaker) that serves this request: the chosen version's, or the route's own. */
export async function chooseUpstream(c: Ctx, route: Route, identity: Identity | null): Promise<Upstream> {
  return routeUpstream(route, await chooseVersion(c, route, identity));
}

/**
 * After the response is made (a proxied answer, a fallback, or a problem+json thrown on the way):
 * `x-served-by: <route>@<version>` when a version was chosen, and the visitor cookie when one was
 * minted (never for a client that sent a valid one). Appended, so an upstream's own cookies stay.
 */
export const versionResponseHeaders: MiddlewareHandler<AppEnv<GatewayBindings>> = async (c, next) => {
  await next();
  const chosen = c.get('routeVersion');
  // On the response's own headers: `c.header()` would rebuild the answered Response (cors-policy.ts).
  if (chosen) c.res.headers.set(SERVED_BY_HEADER, `${chosen.route}@${chosen.version}`);
  const minted = mintedVisitorIds.get(c.req.raw);
  if (minted) c.res.headers.append('set-cookie', `${VISITOR_COOKIE}=${minted}; Max-Age=${ONE_YEAR_SECONDS}; Path=/; HttpOnly; Secure; SameSite=Lax`);
};

/**
 * A `PUT /_ops/routes/:name` body: `{weights, allow?}`, the weights naming exactly the route's
 * versions, whole percents summing to 100; `allow` (`{<version>: [user ids]}`, at most
 * MAX_ALLOWED_USERS ids in all, a user on one version) replaces the allow lists, left out keeps them.
 */
export function weightsBodySchema(route: VersionedRoute) {
  const versions = versionsOf(route);
  return z
    .object({ weights: versionWeightsSchema, allow: z.record(z.string(), z.array(z.string()).max(MAX_ALLOWED_USERS)).optional() })
    .strict()
    .superRefine(({ weights, allow }, ctx) => {
      const everyVersion = Object.fromEntries(versions.map((version) => [version, 0]));
      for (const problem of allowListProblems(everyVersion, allow ?? {})) ctx.addIssue({ code: 'custom', path: ['allow', ...problem.path], message: problem.message });
      for (const version of Object.keys(weights)) {
        if (!versions.includes(version)) ctx.addIssue({ code: 'custom', path: ['weights', version], message: `unknown version; ${route.name} has ${versions.join(', ')}` });
      }
      for (const version of versions) {
        if (!Object.hasOwn(weights, version)) ctx.addIssue({ code: 'custom', path: ['weights', version], message: `missing: name every version of ${route.name} (0 for none)` });
      }
    });
}
