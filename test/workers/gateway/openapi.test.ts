import type { RouteConfig } from '@hono/zod-openapi';
import { SELF } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { z as zod, type z, type ZodType } from 'zod';
import { idempotencyKeyHeader } from '../../../shared/http/idempotency-key';
import { problemSchema } from '../../../shared/openapi/describe';
import { productInput, productPatch } from '../../../workers/catalog/product-schemas';
import gateway from '../../../workers/gateway/index';
import { publicOperations, publicPathOf } from '../../../workers/gateway/openapi/document';
import { breakerState } from '../../../workers/gateway/openapi/gateway-openapi';
import { DEFAULT_BREAKER_OPTIONS, type BreakerSnapshot } from '../../../shared/resilience/circuit-breaker';
import { routes } from '../../../workers/gateway/routes';
import { resolvePolicy } from '../../../workers/gateway/route-policy';
import { DEFAULT_BODY_LIMIT_BYTES } from '../../../shared/middleware/service-app';
import { productRoutes } from '../../../workers/catalog/product-routes';
import { ledgerRoutes } from '../../../workers/ledger/ledger-routes';
import { readRoutes } from '../../../workers/ledger/read-routes';
import { liveRoutes } from '../../../workers/orders/live-routes';
import { orderRoutes } from '../../../workers/orders/order-routes';
import { notificationRoutes } from '../../../workers/notifications/notification-routes';
import { paymentRoutes } from '../../../workers/payments/payment-routes';
import { jwksRoutes } from '../../../workers/users/jwks-routes';
import { tokenRoutes } from '../../../workers/users/token-routes';
import { userRoutes } from '../../../workers/users/user-routes';
import type { ServiceBindings } from '../../../workers/gateway/env';
import { placeOrderInput } from '../../../workers/orders/order-schemas';
import { refundInput } from '../../../workers/payments/payment-schemas';
import { registerInput } from '../../../workers/users/user-schemas';
import { asOfQuery, commandHeadersInput, movementInput, openHeadersInput } from '../../../workers/ledger/ledger-schemas';
import { callWorker, json } from '../../support/call-worker';
import apiDoc from '../../../docs/api.md?raw';
import topology from '../../../shared/events/topology.json';

/**
 * Every route of the public contract, docs/api.md, by method and path (`:id` written as OpenAPI's
 * `{id}`): each table row whose first cell starts with `` `METHOD /path` `` is one route.
 */
const API_DOC_ROUTES = [...apiDoc.matchAll(/^\| `(GET|POST|PUT|DELETE|PATCH) (\/[^`\s?]*)/gm)].map(
  ([, method, path]) => `${method} ${path!.replace(/:([A-Za-z]+)/g, '{$1}')}`,
);

/**
 * The services' route handlers and where each service's index.ts mounts them: every route they
 * serve that the gateway makes public must be described, so a handler added without its
 * description fails here (the descriptions sit beside the handlers, not inside them).
 */
const SERVICE_ROUTERS: { service: keyof ServiceBindings; mount: string; router: { routes: { method: string; path: string }[] } }[] = [
  { service: 'CATALOG', mount: '/products', router: productRoutes },
  { service: 'USERS', mount: '', router: userRoutes },
  { service: 'USERS', mount: '', router: tokenRoutes },
  { service: 'USERS', mount: '', router: jwksRoutes },
  { service: 'ORDERS', mount: '/orders', router: orderRoutes },
  { service: 'ORDERS', mount: '/orders', router: liveRoutes },
  { service: 'NOTIFICATIONS', mount: '/notifications', router: notificationRoutes },
  { service: 'PAYMENTS', mount: '/payments', router: paymentRoutes },
  { service: 'LEDGER', mount: '/ledger', router: readRoutes },
  { service: 'LEDGER', mount: '/ledger', router: ledgerRoutes },
];

const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options', 'trace'] as const;

type Json = Record<string, unknown>;
interface Operation extends Json {
  parameters?: { name: string; in: string; required?: boolean }[];
  responses: Record<string, { description?: string; content?: Record<string, { example?: unknown }> } | { $ref: string }>;
  security?: Record<string, string[]>[];
}
interface Document extends Json {
  openapi: string;
  info: { title: string; version: string };
  paths: Record<string, Partial<Record<(typeof METHODS)[number], Operation>>>;
  components: { schemas?: Json; securitySchemes?: Json };
}

async function served(): Promise<Document> {
  const response = await callWorker(gateway, '/openapi.json');
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toContain('application/json');
  return (await response.json()) as Document;
}

const operations = (doc: Document) =>
  Object.entries(doc.paths).flatMap(([path, item]) => METHODS.filter((m) => item[m]).map((method) => ({ path, method, operation: item[method] as Operation })));

/** Every `$ref` in the document, anywhere. */
function refs(value: unknown, found: string[] = []): string[] {
  if (Array.isArray(value)) for (const v of value) refs(v, found);
  else if (value && typeof value === 'object') {
    for (const [key, v] of Object.entries(value)) {
      if (key === '$ref' && typeof v === 'string') found.push(v);
      else refs(v, found);
    }
  }
  return found;
}

/** Each example of a description with the zod schema beside it: request bodies and answers. */
function examplesOf(config: RouteConfig): { where: string; schema: ZodType; example: unknown }[] {
  const at = `${config.method.toUpperCase()} ${config.path}`;
  // Content as describe.ts builds it: a zod schema and its example per media type.
  const media = (content: object | undefined, where: string) =>
    Object.entries((content ?? {}) as Record<string, { schema?: ZodType; example?: unknown }>).flatMap(([type, m]) =>
      m.example === undefined || !m.schema ? [] : [{ where: `${where} ${type}`, schema: m.schema, example: m.example }],
    );
  return [
    ...media(config.request?.body?.content, `${at} request`),
    ...Object.entries(config.responses).flatMap(([status, response]) => ('content' in response ? media(response.content, `${at} ${status}`) : [])),
  ];
}

describe('GET /openapi.json', () => {
  it('describes every route of docs/api.md with its method, and docs/api.md lists every operation it describes', async () => {
    const doc = await served();
    const described = operations(doc).map(({ path, method }) => `${method.toUpperCase()} ${path}`);
    expect(API_DOC_ROUTES.length).toBeGreaterThan(40);
    expect(API_DOC_ROUTES.filter((route) => !described.includes(route))).toEqual([]);
    expect(described.filter((route) => !API_DOC_ROUTES.includes(route))).toEqual([]);
    // Each consumer of the event topology has its hook route in the contract.
    for (const consumer of Object.keys(topology.consumers)) expect(API_DOC_ROUTES).toContain(`POST /hooks/${consumer}`);
  });

  it('describes every route a service serves that the gateway makes public', async () => {
    const doc = await served();
    const described = new Set(operations(doc).map(({ path, method }) => `${method.toUpperCase()} ${path}`));
    const reachable = SERVICE_ROUTERS.flatMap(({ service, mount, router }) =>
      router.routes
        .filter((route) => route.method !== 'ALL')
        .flatMap((route) => {
          const path = `${mount}${route.path}`.replace(/(.)\/$/, '$1').replace(/:([A-Za-z]+)/g, '{$1}');
          const mapped = publicPathOf(service, path);
          return mapped ? [`${route.method} ${mapped.path}`] : [];
        }),
    );
    expect(reachable.length).toBeGreaterThan(20);
    expect(reachable.filter((route) => !described.has(route))).toEqual([]);
  });

  it("describes every route of the gateway's own app, apart from files and the route table's catch-alls", async () => {
    const doc = await served();
    const described = new Set(operations(doc).map(({ path, method }) => `${method.toUpperCase()} ${path}`));
    // Not operations of the API: static files (the dashboard's and Swagger UI's scripts and
    // styles), and `ALL` (middleware, the route table's proxies, /_ops's own 404), whose public
    // operations are the services' own, checked above.
    // Routes registered under another template than the one they serve (workers/gateway/ops/ops.ts:
    // `POST /_ops/dlq/redrive` is `/dlq/:dlqId` taking only `redrive`, for Hono's RegExpRouter).
    const registeredAs: Record<string, string> = { 'POST /_ops/dlq/{dlqId}': 'POST /_ops/dlq/redrive' };
    const notOperations = ['GET /_ops/ui/*', 'GET /docs/swagger-ui-dist/swagger-ui-bundle.js', 'GET /docs/swagger-ui-dist/swagger-ui.css'];
    const own = [
      ...new Set(
        gateway.routes
          .filter((route) => route.method !== 'ALL')
          .map((route) => `${route.method} ${route.path.replace(/(.)\/$/, '$1').replace(/:([A-Za-z]+)/g, '{$1}')}`)
          .map((route) => registeredAs[route] ?? route),
      ),
    ];
    expect(own.length).toBeGreaterThan(15);
    expect(own.filter((route) => !described.has(route) && !notOperations.includes(route))).toEqual([]);
  });

  it('describes something under every prefix of the gateway route table', async () => {
    const paths = Object.keys((await served()).paths);
    const bare = routes.filter((route) => !paths.some((path) => path === route.prefix || path.startsWith(`${route.prefix}/`)));
    expect(bare.map((route) => route.prefix)).toEqual([]);
  });

  it('is an OpenAPI 3.1 document in shape: operations answer, path parameters match their templates, every reference resolves', async () => {
    const doc = await served();
    expect(doc.openapi).toMatch(/^3\.1\.\d+$/);
    expect(typeof doc.info.title).toBe('string');
    expect(typeof doc.info.version).toBe('string');
    const schemes = Object.keys(doc.components.securitySchemes ?? {});
    expect(schemes).toEqual(expect.arrayContaining(['bearerAuth', 'adminToken']));
    const all = operations(doc);
    expect(all.length).toBeGreaterThanOrEqual(API_DOC_ROUTES.length);
    for (const { path, method, operation } of all) {
      const at = `${method} ${path}`;
      expect(path, at).toMatch(/^\//);
      const statuses = Object.keys(operation.responses);
      expect(statuses.length, at).toBeGreaterThan(0);
      for (const status of statuses) {
        expect(status, at).toMatch(/^([1-5]\d\d|[1-5]XX|default)$/);
        const response = operation.responses[status];
        if (response && !('$ref' in response)) expect(typeof response.description, `${at} ${status}`).toBe('string');
      }
      const templated = [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]).sort();
      const declared = (operation.parameters ?? []).filter((p) => p.in === 'path');
      expect(declared.map((p) => p.name).sort(), at).toEqual(templated);
      for (const p of declared) expect(p.required, `${at} ${p.name}`).toBe(true);
      for (const requirement of operation.security ?? []) for (const name of Object.keys(requirement)) expect(schemes, at).toContain(name);
    }
    for (const ref of refs(doc)) {
      const target = ref.replace(/^#\//, '').split('/').reduce<unknown>((node, key) => (node as Json | undefined)?.[key], doc);
      expect(target, ref).toBeDefined();
    }
  });

  it('says how each route is secured, as the route table does', async () => {
    const doc = await served();
    expect(doc.paths['/api/orders']?.post?.security).toEqual([{ bearerAuth: [] }]);
    expect(doc.paths['/api/catalog/products']?.get?.security).toEqual([{}, { bearerAuth: [] }]);
    expect(doc.paths['/api/users/login']?.post?.security).toEqual([]);
    expect(doc.paths['/_ops/breakers']?.get?.security).toEqual([{ adminToken: [] }]);
    // Edge behaviour read from the same table: RateLimit on a limited route, x-cache on a cached read.
    const list = doc.paths['/api/catalog/products']?.get?.responses ?? {};
    expect(Object.keys(list)).toEqual(expect.arrayContaining(['200', '429', '502', '503', '504']));
    expect(Object.keys((list['200'] as Json).headers as Json)).toEqual(expect.arrayContaining(['RateLimit', 'RateLimit-Policy', 'x-cache']));
    expect(Object.keys(doc.paths['/api/orders']?.post?.responses ?? {})).toEqual(expect.arrayContaining(['202', '200', '400', '401', '422', '429']));
  });

  it("states each route's real deadline, breaker and body limit, not a copy of their defaults", async () => {
    const problemOf = (config: RouteConfig, status: number) =>
      ((config.responses[String(status)] as { content?: Record<string, { example?: { type?: string; detail?: string } }> } | undefined)?.content?.['application/problem+json']?.example ?? {});
    const proxied = routes.flatMap((route) => publicOperations().filter((o) => o.tags?.[0] === route.name).map((config) => ({ route, config })));
    expect(proxied.length).toBeGreaterThan(20);
    for (const { route, config } of proxied) {
      const at = `${config.method} ${config.path}`;
      const policy = resolvePolicy(route);
      expect(problemOf(config, 504).detail, at).toContain(`within ${policy.timeoutMs} ms`);
      expect(problemOf(config, 503).type, at).toBe(policy.breaker === false ? '/problems/bulkhead-full' : '/problems/circuit-open');
    }
    // The jwks route has no breaker: its 503 is the bulkhead's alone.
    expect(proxied.some(({ route, config }) => route.name === 'jwks' && problemOf(config, 503).type === '/problems/bulkhead-full')).toBe(true);
    // The 413 example is what the workers really say for a body over the default limit.
    const tooLarge = await callWorker(gateway, '/api/users/register', json({ email: 'a@example.com', password: 'x'.repeat(DEFAULT_BODY_LIMIT_BYTES) }));
    expect(tooLarge.status).toBe(413);
    const register = publicOperations().find((o) => o.method === 'post' && o.path === '/api/users/register');
    expect(register && problemOf(register, 413).detail).toBe(((await tooLarge.json()) as { detail: string }).detail);
  });

  it('describes requests with the very schemas the handlers validate with', () => {
    const find = (method: string, path: string) => publicOperations().find((o) => o.method === method && o.path === path);
    const bodySchema = (method: string, path: string) => (find(method, path)?.request?.body?.content['application/json'] as { schema?: unknown } | undefined)?.schema;
    expect(bodySchema('post', '/api/catalog/products')).toBe(productInput);
    expect(bodySchema('put', '/api/catalog/products/{id}')).toBe(productPatch);
    expect(bodySchema('post', '/api/orders')).toBe(placeOrderInput);
    expect(find('post', '/api/orders')?.request?.headers).toBe(idempotencyKeyHeader);
    expect(bodySchema('post', '/api/users/register')).toBe(registerInput);
    expect(bodySchema('post', '/api/ledger/accounts/{id}/deposits')).toBe(movementInput);
    expect(find('post', '/api/ledger/accounts/{id}/withdrawals')?.request?.headers).toBe(commandHeadersInput);
    expect(find('post', '/api/ledger/accounts')?.request?.headers).toBe(openHeadersInput);
    expect(find('get', '/api/ledger/accounts/{id}')?.request?.query).toBe(asOfQuery);
  });

  it('has examples that validate against their schemas, every one of them', async () => {
    const checked = publicOperations().flatMap(examplesOf);
    const failures = checked.flatMap(({ where, schema, example }) => {
      const result = schema.safeParse(example);
      return result.success ? [] : [`${where}: ${result.error.issues.map((i) => `${i.path.join('.')} ${i.message}`).join('; ')}`];
    });
    expect(failures).toEqual([]);
    // Every example the served document shows is one of those checked.
    const doc = await served();
    const shown = operations(doc).flatMap(({ path, method, operation }) =>
      Object.entries(operation.responses).flatMap(([, r]) => Object.values(('content' in r ? r.content : undefined) ?? {}).filter((m) => m.example !== undefined).map(() => `${method} ${path}`)),
    );
    const requestExamples = operations(doc).filter(({ operation }) => {
      const body = operation.requestBody as { content?: Record<string, { example?: unknown }> } | undefined;
      return Object.values(body?.content ?? {}).some((m) => m.example !== undefined);
    });
    expect(checked.length).toBe(shown.length + requestExamples.length);
    expect(checked.length).toBeGreaterThan(100);
  });

  it("names every key of every answer's objects, so a field a handler adds or the document forgets fails the conformance test", () => {
    // Open on purpose: the document itself (its many keys are the generator's), and a JWK (its
    // members depend on the key type: `x`, `y`, `crv` for EC).
    const open = new Set(['get /openapi.json 200 application/json', 'get /.well-known/jwks.json 200 application/json.keys[]']);
    const loose: string[] = [];
    /** Every object schema in a JSON Schema, named by where it sits (`.field`, `[]` for items). */
    const walk = (node: unknown, at: string): void => {
      if (Array.isArray(node)) return node.forEach((n) => walk(n, at));
      if (!node || typeof node !== 'object') return;
      const schema = node as Json;
      if (schema.properties && schema.additionalProperties !== false && !open.has(at)) loose.push(at);
      for (const [key, value] of Object.entries(schema)) {
        if (key === 'properties') for (const [name, property] of Object.entries(value as Json)) walk(property, `${at}.${name}`);
        else walk(value, key === 'items' ? `${at}[]` : at);
      }
    };
    const answers = publicOperations().flatMap((config) =>
      Object.entries(config.responses).flatMap(([status, response]) =>
        Object.entries(('content' in response ? response.content : undefined) ?? {}).map(([type, media]) => ({ at: `${config.method} ${config.path} ${status} ${type}`, schema: (media as { schema?: ZodType }).schema })),
      ),
    );
    expect(answers.length).toBeGreaterThan(100);
    for (const { at, schema } of answers) if (schema) walk(zod.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }), at);
    expect(loose).toEqual([]);
  });

  it("shows a refund body the handler's own validator (refundInput) accepts", () => {
    const refunds = publicOperations().find((o) => o.method === 'post' && o.path === '/api/payments/refunds');
    const example = (refunds?.request?.body?.content['application/json'] as { example?: unknown } | undefined)?.example;
    expect(example).toBeDefined();
    expect(refundInput.safeParse(example).success).toBe(true);
  });

  it('describes errors as the workers really send them: a real 400 validates against the Problem schema', async () => {
    const response = await callWorker(gateway, '/api/users/register', json({ email: 'not-an-email', password: 'short' }));
    expect(response.status).toBe(400);
    expect(response.headers.get('content-type')).toBe('application/problem+json');
    const problem = problemSchema.safeParse(await response.json());
    expect(problem.success).toBe(true);
    expect(problem.data?.errors?.map((e) => e.path).sort()).toEqual(['email', 'password']);
  });
});

describe('GET /_ops/breakers as described', () => {
  // Compile time: the described failureRate is exactly the snapshot's (a share or null), not a wider type.
  const sameFailureRate: [BreakerSnapshot['failureRate'], z.output<typeof breakerState>['failureRate']] extends [z.output<typeof breakerState>['failureRate'], BreakerSnapshot['failureRate']] ? true : false = true;

  it('matches real answers in every state: closed, open and half-open', async () => {
    expect(sameFailureRate).toBe(true);
    const upstream = env.BREAKERS.get(env.BREAKERS.idFromName('payments'));
    const read = async () => {
      const response = await callWorker(gateway, '/_ops/breakers', { headers: { authorization: 'Bearer test-admin-token' } });
      expect(response.status).toBe(200);
      const payments = ((await response.json()) as Record<string, unknown>).payments;
      const parsed = breakerState.safeParse(payments);
      expect(parsed.success, `${JSON.stringify(payments)}: ${JSON.stringify(parsed.error?.issues)}`).toBe(true);
      return parsed.data;
    };
    const options = { ...DEFAULT_BREAKER_OPTIONS, minimumCalls: 4, failureRateThreshold: 50 };
    // From an empty window: the project's other files share this runtime and its breakers.
    await upstream.reset();
    try {
      await upstream.report(options, { calls: 5, failures: 1, slow: 0 });
      expect(await read()).toMatchObject({ state: 'closed', failureRate: 0.2, calls: 5 });
      // 4 of 5 more failed: open, with the share (not a percent) that opened it.
      await upstream.report(options, { calls: 5, failures: 4, slow: 0 });
      expect(await read()).toMatchObject({ state: 'open', failureRate: 0.5, calls: 10 });
      // openDurationMs 0 here: the next acquire is a half-open probe, so no test waits on a clock.
      expect((await upstream.acquireProbe({ ...options, openDurationMs: 0 })).permitted).toBe(true);
      expect(await read()).toMatchObject({ state: 'half-open', failureRate: null, calls: 1 });
    } finally {
      await upstream.reset();
    }
  });
});

describe('GET /docs', () => {
  it('is Swagger UI for /openapi.json, its script and styles served by the gateway itself', async () => {
    // Through the runtime's own entry (SELF), so the static-assets binding is the one wrangler.toml configures.
    const page = await SELF.fetch('http://stratus.test/docs');
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toContain('text/html');
    const html = await page.text();
    expect(html).toContain("url: '/openapi.json'");
    // Nothing from another host: no CDN at run time.
    expect(html).not.toMatch(/(src|href)="(https?:)?\/\//);
    const assets = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1] ?? '');
    expect(assets.sort()).toEqual(['/docs/swagger-ui-dist/swagger-ui-bundle.js', '/docs/swagger-ui-dist/swagger-ui.css']);
    for (const asset of assets) {
      const response = await SELF.fetch(`http://stratus.test${asset}`);
      expect(response.status, asset).toBe(200);
      expect(response.headers.get('content-type'), asset).toMatch(asset.endsWith('.js') ? /javascript/ : /text\/css/);
      const body = await response.text();
      expect(body.length, asset).toBeGreaterThan(10_000);
    }
    expect((await SELF.fetch('http://stratus.test/docs/swagger-ui-dist/no-such-file.js')).status).toBe(404);
  });

  it('may run only its own files and its one inline start-up script, by hash: it shares an origin with /_ops', async () => {
    const page = await SELF.fetch('http://stratus.test/docs');
    const csp = page.headers.get('content-security-policy') ?? '';
    const html = await page.text();
    const directives = new Map(csp.split(';').map((d) => d.trim().split(/\s+/)).map(([name = '', ...values]) => [name, values]));
    expect(directives.get('default-src')).toEqual(["'none'"]);
    expect(directives.get('connect-src')).toEqual(["'self'"]);
    expect(directives.get('style-src')).toEqual(["'self'"]);
    expect(directives.get('frame-ancestors')).toEqual(["'none'"]);
    // Every inline script on the page is allowed by its own hash, and nothing else inline.
    const inline = [...html.matchAll(/<script>([\s\S]*?)<\/script>/g)].map((m) => m[1] ?? '');
    expect(inline).toHaveLength(1);
    const hashes = await Promise.all(
      inline.map(async (script) => `'sha256-${btoa(String.fromCharCode(...new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(script)))))}'`),
    );
    expect(directives.get('script-src')?.sort()).toEqual(["'self'", ...hashes].sort());
    expect(inline[0]).toContain("validatorUrl: 'none'");
  });

  it('serves Swagger UI\'s two files and no other path under /docs, however it is spelled', async () => {
    for (const path of ['/docs/swagger-ui-dist/', '/docs/swagger-ui-dist/index.html', '/docs/swagger-ui-dist/..%2F..%2Fops%2Findex.html', '/docs/swagger-ui-dist/%2E%2E/%2E%2E/ops/index.html', '/docs/swagger-ui-dist/swagger-ui-bundle.js/x']) {
      const response = await SELF.fetch(`http://stratus.test${path}`);
      expect(response.status, path).toBe(404);
      expect(response.headers.get('content-type'), path).toContain('application/problem+json');
    }
  });
});
