import type { RouteConfig } from '@hono/zod-openapi';
import { problemType } from '../../../shared/http/problem';
import { header, problemExample, problemResponse, type HeadersObject, type ResponseConfig, type Responses } from '../../../shared/openapi/describe';
import { RATELIMIT_HEADER, RATELIMIT_POLICY_HEADER, rateLimitPolicyHeader } from '../../../shared/ratelimit/headers';
import { resolvePolicy } from '../route-policy';
import { SERVED_BY_HEADER } from '../traffic/route-versions';
import { isAnonymousPath, serviceName, type Route } from '../routes';

/**
 * What the gateway adds to a service's route on the way out, read from the same route table the
 * gateway routes by (routes.ts), so the document says what the edge really does: who may call
 * (security), the RateLimit headers and 429, `x-cache` on cached reads, and the answers of the
 * resilience layer (502, 503 with circuit open or bulkhead full, 504).
 */

export const SECURITY_SCHEMES = {
  /** An access token from POST /api/users/login (ES256 JWT), verified at the edge. */
  bearerAuth: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: 'An access token from `POST /api/users/login` (ES256 JWT, 15 minutes), verified by the gateway.' },
  /** The operator's ADMIN_TOKEN, for /_ops. */
  adminToken: { type: 'http', scheme: 'bearer', description: 'The operator token (`ADMIN_TOKEN`; `dev-admin-token` under `npm run dev`).' },
} as const;

const withHeaders = (response: ResponseConfig, headers: NonNullable<ResponseConfig['headers']>): ResponseConfig => ({
  ...response,
  headers: { ...(response.headers as object | undefined), ...(headers as object) },
});

const mapResponses = (responses: Responses, f: (status: number, response: ResponseConfig) => ResponseConfig): Responses =>
  Object.fromEntries(Object.entries(responses).map(([status, response]) => [status, f(Number(status), response)]));

/** The 401 the gateway answers for a token that does not verify (or none, where one is required). */
const edgeUnauthorized = (route: Route): ResponseConfig =>
  problemResponse(401, 'No valid access token: missing where required, or expired, badly signed, or for another issuer or audience.', `${route.prefix} needs Authorization: Bearer <access token>.`, {
    'WWW-Authenticate': header.wwwAuthenticate,
  });

/** How a public path on `route` is secured: `[]` is "no credentials asked for". */
export function securityOf(route: Route, servicePath: string): RouteConfig['security'] {
  if (isAnonymousPath(route, servicePath)) return [];
  // Optional: anonymous callers are served; a token, if sent, must verify.
  return route.policy.auth === 'required' ? [{ bearerAuth: [] }] : [{}, { bearerAuth: [] }];
}

/** `config` (a service's route, already at its public path) with what the edge does on `route`. */
export function withEdgePolicy(route: Route, servicePath: string, config: RouteConfig): RouteConfig {
  const { policy } = route;
  // Every description here is built with shared/openapi/describe.ts: responses in place, no `$ref`.
  let responses = { ...config.responses } as Responses;
  const security = securityOf(route, servicePath);
  if (security?.length) responses[401] ??= edgeUnauthorized(route);

  // Proxied calls can fail at the edge, whatever the service would have said. The policy as the
  // proxy resolves it (route-policy.ts), defaults filled in: the document depends on code only,
  // so a deployment's ROUTE_POLICIES overrides are not shown.
  const resolved = resolvePolicy(route);
  const service = serviceName(route);
  responses[502] ??= problemResponse(502, 'The service could not be reached, or failed, and no fallback answered.', `The ${service} service could not be reached.`);
  const bulkheadFull = problemExample(503, `Too many calls to the ${service} service are already in progress; refused at once.`, { type: problemType('bulkhead-full') });
  responses[503] ??= resolved.breaker
    ? problemResponse(
        503,
        "The service's circuit breaker is open, or too many calls to it are in progress (bulkhead full): refused at once.",
        problemExample(503, `The ${service} service is failing; the gateway is not calling it for now (circuit open). Try again in ${Math.ceil(resolved.breaker.openDurationMs / 1000)} s.`, {
          type: problemType('circuit-open'),
        }),
        { 'Retry-After': header.retryAfter },
      )
    : // No breaker on this route (`breaker: false`): only the bulkhead refuses at once.
      problemResponse(503, 'Too many calls to the service are in progress (bulkhead full): refused at once.', bulkheadFull, { 'Retry-After': header.retryAfter });
  responses[504] ??= problemResponse(504, "The service did not answer within the route's deadline.", `The ${service} service did not answer within ${resolved.timeoutMs} ms.`);

  if (policy.rateLimit) {
    const example = rateLimitPolicyHeader(route.name, policy.rateLimit);
    responses[429] ??= problemResponse(429, `Over the rate limit: ${policy.rateLimit.limit} requests per ${policy.rateLimit.windowMs / 1000} s per caller (user, else address).`, 'Too many requests; try again later.', {
      'Retry-After': header.retryAfter,
    });
    // docs/api.md: every answer of a rate-limited route carries both fields, refusals and errors too.
    const rateLimitHeaders: HeadersObject = {
      [RATELIMIT_POLICY_HEADER]: { description: 'The quota: `q` requests per `w` seconds (IETF ratelimit-headers draft).', schema: { type: 'string' }, example },
      [RATELIMIT_HEADER]: { description: 'What is left: `r` requests for `t` more seconds.', schema: { type: 'string' }, example: `"${route.name}";r=${policy.rateLimit.limit - 1};t=${Math.ceil(policy.rateLimit.windowMs / 1000)}` },
    };
    responses = mapResponses(responses, (_, response) => withHeaders(response, rateLimitHeaders));
  }
  if (policy.cache && config.method === 'get') {
    const xCache: HeadersObject = {
      'x-cache': { description: 'Whether the gateway\'s response cache answered: fresh (`HIT`), filled now (`MISS`), stale while one refresh runs (`STALE`), or not used (`BYPASS`).', schema: { type: 'string', enum: ['HIT', 'MISS', 'STALE', 'BYPASS'] },
      },
    };
    responses = mapResponses(responses, (status, response) => (status < 300 ? withHeaders(response, xCache) : response));
  }
  if (route.versions) {
    const servedBy: HeadersObject = {
      [SERVED_BY_HEADER]: { description: 'Which version of the route answered (`<route>@<version>`): canary / blue-green, sticky per caller.', schema: { type: 'string' }, example: `${route.name}@v1` },
    };
    responses = mapResponses(responses, (_, response) => withHeaders(response, servedBy));
  }
  return { ...config, security, responses, tags: [route.name] };
}
