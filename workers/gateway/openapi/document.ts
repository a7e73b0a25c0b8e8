import { OpenAPIHono, type RouteConfig } from '@hono/zod-openapi';
import { PROBLEM_CONTENT_TYPE } from '../../../shared/http/problem';
import { DEFAULT_BODY_LIMIT_BYTES } from '../../../shared/middleware/service-app';
import { problemResponse, type Responses } from '../../../shared/openapi/describe';
import { catalogApi } from '../../catalog/catalog-openapi';
import { ledgerApi } from '../../ledger/ledger-openapi';
import { notificationsApi } from '../../notifications/notifications-openapi';
import { ordersApi } from '../../orders/orders-openapi';
import { paymentsApi } from '../../payments/payments-openapi';
import { usersApi } from '../../users/users-openapi';
import type { ServiceBindings } from '../env';
import { isHiddenPath, routes, type Route } from '../routes';
import { SECURITY_SCHEMES, withEdgePolicy } from './edge-policy';
import { gatewayApi } from './gateway-openapi';
import { telemetryApi } from '../ops/telemetry-openapi';

/**
 * The one OpenAPI 3.1 document of the public API (`GET /openapi.json`), merged here.
 *
 * Why the gateway merges descriptions rather than each service serving its own document built
 * from OpenAPIHono handlers: the public contract is the gateway's. A service's `/products` is
 * `/api/catalog/products` outside, and what a caller meets there (401 at the edge, RateLimit and
 * 429, `x-cache`, 502/503/504 from the breaker and deadlines) is the gateway's doing, known only
 * from its route table. So each service describes its routes at its own paths next to its
 * handlers (workers/<service>/<service>-openapi.ts, built from the very zod schemas its handlers
 * validate with), and the gateway maps each to its public path through the same route table it
 * routes by and adds its edge policy (edge-policy.ts). Converting the handlers themselves to
 * OpenAPIHono would tie every handler's return type to its description and pull the services'
 * handler code (D1, drizzle) into the gateway's bundle just to read their documentation; the
 * descriptions here are data and schemas only.
 */

/** Each service's description, by the binding the route table names it by; the canary is the catalog again. */
const SERVICE_APIS: Partial<Record<keyof ServiceBindings, readonly RouteConfig[]>> = {
  CATALOG: catalogApi,
  USERS: usersApi,
  ORDERS: ordersApi,
  PAYMENTS: paymentsApi,
  LEDGER: ledgerApi,
  NOTIFICATIONS: notificationsApi,
};

const underPrefix = (path: string, prefix: string) => prefix === '' || path === prefix || path.startsWith(`${prefix}/`);

/**
 * The route a service path is public through, and its public path: the route of that service
 * with the longest matching upstream prefix (users' `/.well-known/jwks.json` is the `jwks`
 * route's, not `/api/users/.well-known/...`), unless that route hides the path.
 */
export function publicPathOf(service: keyof ServiceBindings, servicePath: string): { route: Route; path: string } | undefined {
  const route = routes
    .filter((r) => r.service === service && underPrefix(servicePath, r.upstreamPrefix))
    .sort((a, b) => b.upstreamPrefix.length - a.upstreamPrefix.length)[0];
  if (!route || isHiddenPath(route, servicePath)) return undefined;
  return { route, path: `${route.prefix}${servicePath.slice(route.upstreamPrefix.length)}` };
}

/** Every service route at its public path, with the edge's policy added. */
function serviceOperations(): RouteConfig[] {
  return Object.entries(SERVICE_APIS).flatMap(([service, api]) =>
    (api ?? []).map((config) => {
      const mapped = publicPathOf(service as keyof ServiceBindings, config.path);
      if (!mapped) throw new Error(`${service} describes ${config.path}, which no gateway route makes public`);
      return withEdgePolicy(mapped.route, config.path, { ...config, path: mapped.path });
    }),
  );
}

/**
 * A problem example's `instance` is the path asked for, which only the assembled operation knows
 * (a service's descriptions are written at its own paths, and share their error examples).
 */
function withProblemInstances(config: RouteConfig): RouteConfig {
  // Every description is built with shared/openapi/describe.ts: responses in place, no `$ref`.
  const responses = Object.entries(config.responses as Responses).map(([status, response]) => {
    const problem = response.content?.[PROBLEM_CONTENT_TYPE] as { example?: object } | undefined;
    if (!problem?.example) return [status, response];
    return [status, { ...response, content: { ...response.content, [PROBLEM_CONTENT_TYPE]: { ...problem, example: { ...problem.example, instance: config.path } } } }];
  });
  return { ...config, responses: Object.fromEntries(responses) };
}

/** The default body limit every worker applies (service-app.ts), in words: `1 MiB`. */
const BODY_LIMIT = DEFAULT_BODY_LIMIT_BYTES % (1024 * 1024) === 0 ? `${DEFAULT_BODY_LIMIT_BYTES / (1024 * 1024)} MiB` : `${DEFAULT_BODY_LIMIT_BYTES} bytes`;

/** What the baseline every worker shares (createServiceApp) answers for any body, on every route that takes one. */
const BODY_PROBLEMS = {
  413: problemResponse(413, `The body is larger than the limit (${BODY_LIMIT} unless BODY_LIMIT_BYTES says otherwise).`, `The request body is larger than ${DEFAULT_BODY_LIMIT_BYTES} bytes.`),
  415: problemResponse(415, 'The body is not JSON (`Content-Type: application/json`).', 'The request body must be JSON (content-type: application/json).'),
};

const withBodyProblems = (config: RouteConfig): RouteConfig => (config.request?.body ? { ...config, responses: { ...BODY_PROBLEMS, ...config.responses } } : config);

/** Every public operation: the gateway's own endpoints and every service's, as described. */
export const publicOperations = (): RouteConfig[] => [...gatewayApi, ...telemetryApi, ...serviceOperations()].map(withBodyProblems).map(withProblemInstances);

const INFO = {
  title: 'stratus',
  version: '1.0.0',
  description: [
    'The public HTTP API of stratus: one gateway in front of the users, catalog, orders, payments, notifications and ledger services.',
    '',
    'Every answer carries `x-request-id` (yours if it matches `^[A-Za-z0-9._-]{1,128}$`); `traceparent` is continued. Errors are `application/problem+json` (RFC 9457).',
    `Unknown routes are 404, malformed JSON 400, a body over the limit (${BODY_LIMIT}) 413, a body that is not JSON 415.`,
    '',
    'Sign in with `POST /api/users/login` (`demo@example.com` / `demo-password-123` under `npm run dev`, an admin) and use the `accessToken` as the bearer token; `/_ops` takes the operator token instead.',
  ].join('\n'),
};

/** Tags in reading order: the gateway itself, then each route of the table, then operations and deliveries. */
const TAGS = [
  { name: 'gateway', description: 'Health, readiness, metrics, feature flags and this documentation.' },
  ...routes.filter((r) => !r.name.startsWith('hooks-')).map((r) => ({ name: r.name, description: `\`${r.prefix}\`, served by the ${r.service.toLowerCase()} service.` })),
  { name: 'bff', description: 'Backends for frontends: one call per screen, composed at the edge.' },
  { name: 'ops', description: 'The operator\'s endpoints, behind the admin token.' },
  { name: 'hooks', description: 'Event deliveries from QStash (CloudEvents 1.0), verified by each consumer.' },
];

let built: ReturnType<OpenAPIHono['getOpenAPI31Document']> | undefined;

/** The document, built once per isolate: it depends on code only, never on a request. */
export function openApiDocument() {
  if (built) return built;
  // An OpenAPIHono only for its registry and generator: no route of it ever serves a request.
  const app = new OpenAPIHono();
  for (const [name, scheme] of Object.entries(SECURITY_SCHEMES)) app.openAPIRegistry.registerComponent('securitySchemes', name, scheme);
  for (const operation of publicOperations()) app.openAPIRegistry.registerPath(operation);
  built = app.getOpenAPI31Document({ openapi: '3.1.0', info: INFO, tags: TAGS });
  return built;
}
