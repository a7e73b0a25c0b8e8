import { Hono, type Context } from 'hono';
import type { Identity } from '../../shared/http/identity';
import type { AppEnv } from '../../shared/middleware/app-env';
import { createServiceApp } from '../../shared/middleware/service-app';
import { callerIdentity } from '../../workers/gateway/auth/caller-identity';
import { corsPolicy } from '../../workers/gateway/cors-policy';
import type { GatewayBindings } from '../../workers/gateway/env';
import gateway from '../../workers/gateway/index';
import { recordRequest } from '../../workers/gateway/ops/metrics';
import { forward } from '../../workers/gateway/proxy';
import { RoutePipeline, type ServiceTokenSource } from '../../workers/gateway/route-pipeline';
import { routes, type Route } from '../../workers/gateway/routes';

// Every Durable Object class the gateway binds, so its bindings resolve here as in the real gateway
// (wrangler refuses to bundle a worker that does not export one its config binds).
export { AlertEvaluator, CacheTagsObject, CanaryRollout, CircuitBreakerObject, FlagStore, MetricsStore, OpsLive, OriginHealthRegistry, RateLimiter, RouteWeights } from '../../workers/gateway/index';

/**
 * Benchmark only (bench/peer, the cost ladder), never deployed: the gateway's catalog route built
 * up one piece at a time from the gateway's own code, each rung a Hono app, chosen per request by
 * the `x-ladder-rung` header (a header read costs every rung the same). With the gateway's bindings
 * and configuration, so each piece runs as it does in the gateway:
 *
 *   bare     the bare pass-through (bench/gateway/passthrough-worker.ts's handler)
 *   context  + the shared baseline: request id, trace context, logger and request log line, CORS,
 *            security headers, body limit, JSON-only bodies, problem+json (createServiceApp)
 *   auth     + the caller's access token verified (auth/caller-identity.ts)
 *   limit    + the route's rate limit (its pipeline's limiter)
 *   guard    + proxy.ts's forward: header rewriting, canary choice, the upstream guard (deadline,
 *            retry, bulkhead, breaker) and fallback bookkeeping, with no service token
 *   token    + the service token (the route's pipeline as the gateway resolves it)
 *   metrics  + the per-request metrics (ops/metrics.ts recordRequest)
 *   whole    the gateway itself (workers/gateway/index.ts): response cache, version headers, its
 *            other routes in the router
 */
type Env = AppEnv<GatewayBindings>;
type Ctx = Context<Env>;

const catalog = routes.find((route) => route.name === 'catalog') as Route;
const PREFIX = catalog.prefix;

/** The bare pass-through's forwarding: the prefix stripped, the request handed over as is. */
const passThrough = (c: Ctx) => {
  const url = new URL(c.req.url);
  url.pathname = url.pathname.slice(PREFIX.length) || '/';
  return c.env.CATALOG.fetch(new Request(url, c.req.raw));
};

/** The catalog's pipeline with the service token left out (the `guard` rung); one per env, as the real one. */
const noToken: ServiceTokenSource = { token: async () => '' };
const tokenless = new WeakMap<GatewayBindings, RoutePipeline>();
function pipelineWithoutToken(env: GatewayBindings): RoutePipeline {
  let pipeline = tokenless.get(env);
  if (!pipeline) {
    pipeline = Object.assign(new RoutePipeline(catalog, env), { tokens: noToken });
    tokenless.set(env, pipeline);
  }
  return pipeline;
}
const realPipeline = new WeakMap<GatewayBindings, RoutePipeline>();
function pipelineOf(env: GatewayBindings): RoutePipeline {
  let pipeline = realPipeline.get(env);
  if (!pipeline) {
    pipeline = new RoutePipeline(catalog, env);
    realPipeline.set(env, pipeline);
  }
  return pipeline;
}

type Step = 'auth' | 'limit' | 'guard' | 'token';

/** A rung of the baseline app: the steps it runs, in the gateway's order, then its way upstream. */
function rung(steps: readonly Step[], metrics: boolean): Hono<Env> {
  const app = createServiceApp<GatewayBindings>({ service: 'gateway', early: [corsPolicy], ...(metrics ? { onComplete: recordRequest } : {}) });
  const handler = async (c: Ctx) => {
    c.set('serviceLabel', catalog.name);
    c.set('routeLabel', `${PREFIX}/*`);
    const identity: Identity | null = steps.includes('auth') ? await callerIdentity(c) : null;
    if (steps.includes('limit')) await pipelineOf(c.env).limiter?.enforce(c, identity);
    if (steps.includes('token')) return forward(c, pipelineOf(c.env), identity);
    if (steps.includes('guard')) return forward(c, pipelineWithoutToken(c.env), identity);
    return passThrough(c);
  };
  app.all(`${PREFIX}/*`, handler);
  return app;
}

const bare = new Hono<Env>();
bare.all(`${PREFIX}/*`, passThrough);

const rungs: Record<string, { fetch: (request: Request, env: GatewayBindings, ctx: ExecutionContext) => Response | Promise<Response> }> = {
  bare,
  context: rung([], false),
  auth: rung(['auth'], false),
  limit: rung(['auth', 'limit'], false),
  guard: rung(['auth', 'limit', 'guard'], false),
  token: rung(['auth', 'limit', 'token'], false),
  metrics: rung(['auth', 'limit', 'token'], true),
  whole: gateway,
};

export default {
  fetch(request, env, ctx) {
    const app = rungs[request.headers.get('x-ladder-rung') ?? 'bare'];
    if (!app) return new Response(`no rung ${request.headers.get('x-ladder-rung')}; rungs are ${Object.keys(rungs).join(', ')}`, { status: 404 });
    return app.fetch(request, env, ctx);
  },
} satisfies ExportedHandler<GatewayBindings>;
