import type { Context } from 'hono';
import { clientNetwork } from '../../../shared/http/client-network';
import type { Identity } from '../../../shared/http/identity';
import { HttpError } from '../../../shared/http/problem';
import type { AppEnv } from '../../../shared/middleware/app-env';
import { rateLimitHeaders, rateLimitPolicyHeader, RATELIMIT_POLICY_HEADER, retryAfterSeconds } from '../../../shared/ratelimit/headers';
import type { RateLimitBackend, RateLimitDecision, RateLimitPolicy } from '../../../shared/ratelimit/policy';
import { gatewayConfig } from '../config';
import type { GatewayBindings } from '../env';
import { recordRateLimitDecision } from '../ops/metrics';
import { DECISION_DEADLINE_MS, platformOf } from '../platform';
import { routeLabel, type RouteBase } from '../routes';

/**
 * Rate limiting per route policy (routes.ts `rateLimit`), for the gateway's route handler: one
 * decision per request, before the request goes upstream.
 *
 * Who is counted: `user:<id>` for an authenticated caller (their limit follows them across
 * addresses), else `ip:<CF-Connecting-IP>`. Only that header: Cloudflare's edge sets it from the
 * connection and overwrites whatever a client sent, while X-Forwarded-For, X-Real-IP, Forwarded
 * and friends are the client's to write, so keying on them would let anyone pick a fresh bucket
 * per request. Where CF-Connecting-IP is absent (a request that did not come through Cloudflare's
 * edge, e.g. some local setups and tests), every anonymous caller shares the key `ip:unknown`.
 * (Locally, wrangler dev passes a client-sent CF-Connecting-IP through; in production it cannot be
 * forged.)
 */

export function rateLimitKey(c: Context<AppEnv<GatewayBindings>>, identity: Identity | null): string {
  if (identity) return `user:${identity.userId}`;
  // Anything that is not an address is not trusted as a key; an IPv6 caller is keyed by its /64.
  const network = clientNetwork(c.req.header('cf-connecting-ip') ?? '');
  return network ? `ip:${network}` : 'ip:unknown';
}

function withDeadline<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no rate-limit decision within ${ms} ms`)), ms);
  });
  return Promise.race([work, expired]).finally(() => clearTimeout(timer));
}

/**
 * Headers for this request's response, whatever it turns out to be: the upstream's answer, a
 * problem+json thrown later (a 404, a 504, an open circuit) or a fallback. `c.header()` alone is
 * not enough: before any response exists it only remembers the header for a response Hono builds
 * itself (`c.json()`), and both a proxied Response and the one `onError` builds are made
 * elsewhere; Hono copies headers onto such a response only from `c.res`. So they go on `c.res`
 * (creating the placeholder if no middleware did yet), from which Hono's `c.res = …` carries them
 * onto whatever response replaces it.
 */
function setOnResponse(c: Context<AppEnv<GatewayBindings>>, headers: Record<string, string>): void {
  const target = c.res.headers;
  for (const [name, value] of Object.entries(headers)) target.set(name, value);
}

export interface EnforceOptions {
  /** Another backend (tests); default the platform's (platform.ts). */
  backend?: RateLimitBackend;
  deadlineMs?: number;
}

/** What happens when the limiter cannot answer (an error, or no decision within the deadline). */
export type LimiterFailure = 'open' | 'closed';

/** One limit to enforce on this request: a route's, a BFF screen's, the operator endpoints'. */
export interface Limited {
  /** The policy's name in the RateLimit fields, and the prefix of the limiter's key. */
  name: string;
  /** The metrics label (`rate_limit_decisions_total{route}`). */
  label: string;
  /** What a 429's detail names (a path prefix). */
  what: string;
  policy: RateLimitPolicy;
  /** Who is counted: `user:<id>` or `ip:<address>` (rateLimitKey). */
  key: string;
  /** Units this request counts for; default 1. */
  cost?: number;
  /**
   * `open` (default): the request goes ahead, the limiter must never become the outage.
   * `closed`: it is refused with 503 and `Retry-After`, for routes where an unlimited caller is
   * the worse outcome (login and register, whose every call is a costly password hash; the
   * operator token's guesses).
   */
  failure?: LimiterFailure;
}

/**
 * A route's rate limit in one isolate and configuration (route-pipeline.ts resolves it once): the
 * seam between the route's pipeline and how decisions are made, so the backend behind it may
 * change without the per-request path noticing.
 */
export interface RouteLimiter {
  readonly policy: RateLimitPolicy;
  /**
   * Counts this request. Allowed: returns, having put `RateLimit-Policy` and `RateLimit` on the
   * response. Refused: throws a 429 problem+json with both fields and `Retry-After`.
   */
  enforce(c: Context<AppEnv<GatewayBindings>>, identity: Identity | null): Promise<void>;
}

/** The route's limit after the deployment's ROUTE_POLICIES (which may replace it, or turn it off with `false`). */
export function effectiveRateLimit(env: GatewayBindings, route: RouteBase): RateLimitPolicy | undefined {
  const override = gatewayConfig(env).ROUTE_POLICIES[route.name]?.rateLimit;
  return override === false ? undefined : (override ?? route.policy.rateLimit);
}

/** The route's limiter with this env's configuration and backend; null when the route has no limit. */
export function routeLimiter(env: GatewayBindings, route: RouteBase, options: EnforceOptions = {}): RouteLimiter | null {
  const policy = effectiveRateLimit(env, route);
  if (!policy) return null;
  const resolved: EnforceOptions = { backend: options.backend ?? platformOf(env).rateLimits, deadlineMs: options.deadlineMs ?? DECISION_DEADLINE_MS };
  const label = routeLabel(route);
  const failure = route.policy.rateLimitFailure;
  return {
    policy,
    enforce: async (c, identity) => {
      await enforceLimit(c, { name: route.name, label, what: route.prefix, policy, key: rateLimitKey(c, identity), failure }, resolved);
    },
  };
}

/**
 * Counts this request against the route's limit (a limiter made for this one call: tests and
 * callers outside a pipeline; the route handler uses its pipeline's). No policy: does nothing.
 *
 * If the backend fails (the object or Redis unreachable, or no answer within the deadline) the
 * route's `rateLimitFailure` decides: OPEN by default (the request is let through, with a warning
 * and the decision counted as `error`: a limiter protects the services from excess and must never
 * become the outage itself; the response carries `RateLimit-Policy`, still true, but no
 * `RateLimit`, as there is no count to report), or CLOSED (503).
 */
export async function enforceRateLimit(
  c: Context<AppEnv<GatewayBindings>>,
  route: RouteBase,
  identity: Identity | null,
  options: EnforceOptions = {},
): Promise<void> {
  await routeLimiter(c.env, route, options)?.enforce(c, identity);
}

/** waitUntil of this request, when it has an execution context (not in every test). */
function backgroundOf(c: Context<AppEnv<GatewayBindings>>): ((work: Promise<unknown>) => void) | undefined {
  try {
    const ctx = c.executionCtx;
    return (work) => ctx.waitUntil(work.catch(() => {}));
  } catch {
    return undefined;
  }
}

/** Counts this request against one limit (`Limited`): returns when admitted, throws 429 (or 503 when failing closed). */
export async function enforceLimit(c: Context<AppEnv<GatewayBindings>>, limited: Limited, options: EnforceOptions = {}): Promise<RateLimitDecision | undefined> {
  const { name, label, policy } = limited;
  const backend = options.backend ?? platformOf(c.env).rateLimits;
  let decision: RateLimitDecision;
  try {
    const decided = backend.decide(`${name}|${limited.key}`, policy, { cost: limited.cost ?? 1, waitUntil: backgroundOf(c) });
    // Decided here and now (a lease's units, the common case): no deadline timer to set and clear.
    decision = decided instanceof Promise ? await withDeadline(decided, options.deadlineMs ?? DECISION_DEADLINE_MS) : decided;
  } catch (error) {
    recordRateLimitDecision(c, label, 'error');
    setOnResponse(c, { [RATELIMIT_POLICY_HEADER]: rateLimitPolicyHeader(name, policy) });
    if (limited.failure === 'closed') {
      c.get('log').warn('rate limiter failed; request refused (fail closed)', { route: name, backend: backend.name, error });
      throw new HttpError(503, {
        type: 'rate-limiter-unavailable',
        detail: `${limited.what} is only served with a working rate limiter, which did not answer; try again in 1 s.`,
        headers: { [RATELIMIT_POLICY_HEADER]: rateLimitPolicyHeader(name, policy), 'retry-after': '1' },
      });
    }
    c.get('log').warn('rate limiter failed; request let through (fail open)', { route: name, backend: backend.name, error });
    return undefined;
  }

  const headers = rateLimitHeaders(name, policy, decision);
  recordRateLimitDecision(c, label, decision.allowed ? 'allowed' : 'refused');
  if (decision.allowed) {
    setOnResponse(c, headers);
    return decision;
  }
  const seconds = retryAfterSeconds(policy, decision);
  throw new HttpError(429, {
    type: 'rate-limited',
    detail: `Too many requests to ${limited.what} (${policy.limit} per ${policy.windowMs / 1000} s); try again in ${seconds} s.`,
    headers: { ...headers, 'retry-after': String(seconds) },
  });
}
