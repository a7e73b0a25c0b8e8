import { importJWK, type JWK } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateSigningKeyPair } from '../../scripts/dev-keys.mjs';
import { pollUntil, startGateway, type GatewayProcess, type Runtime } from './support/gateway-process';
import { signAccessToken } from '../../scripts/access-token.mjs';
import { getFrom } from './support/from-address';
import { startStandIn, type StandInService } from './support/upstream';

// The gateway off Cloudflare (runtimes/): started as the README says, under Bun and under Deno,
// in front of two stand-in services on loopback. The same route table and policy code as the
// worker; here they reach services over HTTP and keep their state in the process's memory.

/** Small limits so each behaviour shows in a handful of requests. */
const ROUTE_POLICIES = {
  catalog: { rateLimit: { algorithm: 'sliding-window', limit: 3, windowMs: 60_000 } },
  // No retries: each failing request is one upstream call, so the counts below are exact.
  users: { rateLimit: false, retry: false, breaker: { minimumCalls: 4, failureRateThreshold: 50, openDurationMs: 3_000, halfOpenMaxCalls: 1 } },
};

interface Problem {
  type: string;
  status: number;
}

const problemType = (problem: Problem) => problem.type.split('/').pop();

/** An access token as the users service issues it, signed with `jwk`. */
const accessToken = async (jwk: JWK, userId: string) => signAccessToken((await importJWK(jwk, 'ES256')) as CryptoKey, jwk.kid ?? '', userId);

const accessKeys = await generateSigningKeyPair('test-portable-access-token');
// Another key under the same kid: what a forger would sign with.
const forgedKeys = await generateSigningKeyPair('test-portable-access-token');

describe.each<Runtime>(['bun', 'deno'])('the gateway on %s', (runtime) => {
  let catalog: StandInService;
  let users: StandInService;
  let gateway: GatewayProcess;

  beforeAll(async () => {
    [catalog, users] = await Promise.all([startStandIn('catalog'), startStandIn('users', { jwks: { keys: [accessKeys.publicJwk] } })]);
    const keys = await generateSigningKeyPair('test-portable-service-token');
    gateway = await startGateway(runtime, {
      SERVICE_TOKEN_PRIVATE_JWK: JSON.stringify(keys.privateJwk),
      UPSTREAM_CATALOG_URL: catalog.url,
      UPSTREAM_USERS_URL: users.url,
      // Whatever the developer's shell says: no other upstream, state in memory.
      UPSTREAM_ORDERS_URL: '',
      STATE: 'memory',
      ROUTE_POLICIES: JSON.stringify(ROUTE_POLICIES),
      // Breaker outcomes reach the authority as each call ends, not on a timer.
      BREAKER_REPORT_INTERVAL_MS: '0',
      LOG_LEVEL: 'error',
    });
  }, 60_000);

  afterAll(async () => {
    await gateway?.stop();
    await Promise.all([catalog?.close(), users?.close()]);
  });

  it('routes each prefix to its service with the path rewritten, and keeps the caller\'s credentials at the edge', async () => {
    const product = await fetch(`${gateway.url}/api/catalog/products/prod_03?fields=name&b=2`);
    expect(product.status).toBe(200);
    expect(await product.json()).toEqual({ service: 'catalog', method: 'GET', url: '/products/prod_03?fields=name&b=2' });

    const register = await fetch(`${gateway.url}/api/users/register`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        authorization: 'Bearer not-for-services',
        // What a client may claim about itself: this process faces clients, so none of it is passed on.
        'x-forwarded-for': '10.0.0.1',
        'x-forwarded-host': 'admin.internal',
        'x-forwarded-proto': 'https',
        forwarded: 'for=10.0.0.1',
        'x-real-ip': '10.0.0.1',
      },
      body: JSON.stringify({ email: 'ada@example.com' }),
    });
    expect(register.status).toBe(200);
    expect(await register.json()).toEqual({ service: 'users', method: 'POST', url: '/register' });
    expect(users.calls.at(-1)).toEqual({ method: 'POST', url: '/register', serviceToken: true, authorization: false });
    for (const name of ['x-forwarded-for', 'x-forwarded-host', 'x-forwarded-proto', 'forwarded', 'x-real-ip']) expect([name, users.lastHeaders[name]]).toEqual([name, undefined]);
    expect(users.lastHeaders['cf-connecting-ip']).toBe('127.0.0.1');
    expect(catalog.callerCalls().at(-1)).toMatchObject({ serviceToken: true, authorization: false });

    // A service's own operational paths and the route's hidden ones are never forwarded.
    const callsBefore = catalog.callerCalls().length;
    expect((await fetch(`${gateway.url}/api/catalog/inventory/reserve`)).status).toBe(404);
    // A route whose service has no URL here is not served.
    const orders = await fetch(`${gateway.url}/api/orders`);
    expect(orders.status).toBe(404);
    expect(orders.headers.get('content-type')).toContain('application/problem+json');
    expect(catalog.callerCalls().length).toBe(callsBefore);
  });

  it('verifies access tokens at the edge against the users service\'s JWKS; a forged one is 401 and goes nowhere', async () => {
    const me = await fetch(`${gateway.url}/api/users/me`, { headers: { authorization: `Bearer ${await accessToken(accessKeys.privateJwk as JWK, 'usr_ada')}` } });
    expect(me.status).toBe(200);
    expect(users.calls.at(-1)).toEqual({ method: 'GET', url: '/me', serviceToken: true, authorization: false });

    const callsBefore = users.calls.filter((call) => call.url === '/me').length;
    const forged = await fetch(`${gateway.url}/api/users/me`, { headers: { authorization: `Bearer ${await accessToken(forgedKeys.privateJwk as JWK, 'usr_ada')}` } });
    expect(forged.status).toBe(401);
    expect(forged.headers.get('www-authenticate')).toContain('error="invalid_token"');
    expect(users.calls.filter((call) => call.url === '/me').length).toBe(callsBefore);
  });

  it('rate limits per route: RateLimit headers on every answer, then 429 with Retry-After and no upstream call', async () => {
    // Self-contained whatever ran before: ask until refused (at most limit + 1 times). Each request
    // claims another CF-Connecting-IP: the gateway keys by the socket's peer instead, or none would be refused.
    const remaining: number[] = [];
    let refused: Response | undefined;
    for (let i = 0; i <= ROUTE_POLICIES.catalog.rateLimit.limit && !refused; i++) {
      const response = await fetch(`${gateway.url}/api/catalog/products?page=${i}`, { headers: { 'cf-connecting-ip': `203.0.113.${i + 1}` } });
      expect(response.headers.get('ratelimit-policy')).toBe('"catalog";q=3;w=60');
      if (response.status === 429) {
        refused = response;
        break;
      }
      expect(response.status).toBe(200);
      await response.body?.cancel();
      remaining.push(Number(/;r=(\d+)/.exec(response.headers.get('ratelimit') ?? '')?.[1]));
    }
    expect(refused, 'no 429 within limit + 1 requests').toBeDefined();
    expect(remaining.at(-1)).toBe(0);
    expect(remaining).toEqual([...remaining].sort((a, b) => b - a));

    const callsBefore = catalog.callerCalls().length;
    const again = await fetch(`${gateway.url}/api/catalog/products`);
    expect(again.status).toBe(429);
    expect(again.headers.get('content-type')).toContain('application/problem+json');
    expect(problemType((await again.json()) as Problem)).toBe('rate-limited');
    expect(again.headers.get('ratelimit')).toMatch(/^"catalog";r=0;t=\d+$/);
    expect(Number(again.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(catalog.callerCalls().length).toBe(callsBefore);

    // Another caller (another peer address) has its own allowance: the bucket was this caller's.
    const other = await getFrom(`${gateway.url}/api/catalog/products`, '127.0.0.2');
    expect(other.status).toBe(200);
    expect(other.headers['ratelimit']).toMatch(new RegExp(`^"catalog";r=${ROUTE_POLICIES.catalog.rateLimit.limit - 1};t=\\d+$`));
  });

  it('opens the breaker on a failing service, answers 503 at once without calling it, and closes after a good probe', async () => {
    users.failing = true;
    // Failures until the breaker opens: 503s passed through from the service, then circuit-open.
    let opened: Response | undefined;
    await pollUntil(
      async () => {
        const response = await fetch(`${gateway.url}/api/users/me`);
        expect(response.status).toBe(503);
        const problem = (await response.json()) as Problem;
        if (problemType(problem) === 'circuit-open') opened = response;
        return opened !== undefined;
      },
      { timeoutMs: 5_000, everyMs: 0, describe: () => `the breaker never opened after ${users.calls.length} failed calls` },
    );
    expect(Number(opened!.headers.get('retry-after'))).toBeGreaterThan(0);

    // Open: refused at the edge, the service not called.
    const callsWhileOpen = users.calls.length;
    for (let i = 0; i < 3; i++) {
      const response = await fetch(`${gateway.url}/api/users/me`);
      expect(response.status).toBe(503);
      expect(problemType((await response.json()) as Problem)).toBe('circuit-open');
    }
    expect(users.calls.length).toBe(callsWhileOpen);

    // The service heals; after openDurationMs one request goes through as the probe, and its
    // success closes the breaker (halfOpenMaxCalls 1).
    users.failing = false;
    let probe: Response | undefined;
    await pollUntil(
      async () => {
        const response = await fetch(`${gateway.url}/api/users/me`);
        if (response.status === 200) probe = response;
        else expect(problemType((await response.json()) as Problem)).toBe('circuit-open');
        return probe !== undefined;
      },
      { timeoutMs: 10_000, everyMs: 50, describe: () => 'no probe reached the healed service' },
    );
    expect(await probe!.json()).toEqual({ service: 'users', method: 'GET', url: '/me' });
    expect(users.calls.length).toBe(callsWhileOpen + 1);

    // Closed: every request reaches the service again.
    for (let i = 0; i < 5; i++) expect((await fetch(`${gateway.url}/api/users/me`)).status).toBe(200);
    expect(users.calls.length).toBe(callsWhileOpen + 6);
  });
});

// Listening on `::` (every address, IPv4 too), both runtimes report an IPv4 peer as
// ::ffff:127.0.0.1; each IPv4 caller must still be its own rate-limit key, not one shared /64.
describe.each<Runtime>(['bun', 'deno'])('the gateway on %s listening on ::', (runtime) => {
  let catalog: StandInService;
  let gateway: GatewayProcess;

  beforeAll(async () => {
    catalog = await startStandIn('catalog');
    const keys = await generateSigningKeyPair('test-portable-service-token');
    gateway = await startGateway(
      runtime,
      {
        SERVICE_TOKEN_PRIVATE_JWK: JSON.stringify(keys.privateJwk),
        UPSTREAM_CATALOG_URL: catalog.url,
        UPSTREAM_USERS_URL: '',
        UPSTREAM_ORDERS_URL: '',
        STATE: 'memory',
        ROUTE_POLICIES: JSON.stringify({ catalog: { rateLimit: { algorithm: 'sliding-window', limit: 1, windowMs: 60_000 } } }),
        // A load balancer on 127.0.0.3 (seen as ::ffff:127.0.0.3).
        TRUSTED_PROXIES: '127.0.0.3',
        LOG_LEVEL: 'error',
      },
      { host: '::' },
    );
  }, 60_000);

  afterAll(async () => {
    await gateway?.stop();
    await catalog?.close();
  });

  it('keys each IPv4 caller by its own address', async () => {
    const first = await getFrom(`${gateway.url}/api/catalog/products`, '127.0.0.1');
    expect(first.status).toBe(200);
    expect(catalog.lastHeaders['cf-connecting-ip']).toBe('::ffff:127.0.0.1');
    expect((await getFrom(`${gateway.url}/api/catalog/products`, '127.0.0.1')).status).toBe(429);
    const second = await getFrom(`${gateway.url}/api/catalog/products`, '127.0.0.2');
    expect(second.status).toBe(200);
    expect(second.headers['ratelimit']).toMatch(/^"catalog";r=0;t=\d+$/);
    expect((await getFrom(`${gateway.url}/api/catalog/products`, '127.0.0.2')).status).toBe(429);
  });

  it('behind a trusted proxy, keys each caller by the address the proxy reports, and passes none of its headers on', async () => {
    const viaProxy = (forwardedFor: string) => getFrom(`${gateway.url}/api/catalog/products/prod_01`, '127.0.0.3', { 'x-forwarded-for': forwardedFor });
    expect((await viaProxy('203.0.113.10')).status).toBe(200);
    expect(catalog.lastHeaders['cf-connecting-ip']).toBe('203.0.113.10');
    expect(catalog.lastHeaders['x-forwarded-for']).toBeUndefined();
    // The same caller again, with a left entry of its own making: still the same caller.
    expect((await viaProxy('192.0.2.1, 203.0.113.10')).status).toBe(429);
    // Another caller behind the same proxy has its own allowance.
    expect((await viaProxy('203.0.113.11')).status).toBe(200);
    // A caller that is not the proxy cannot name another address.
    expect((await getFrom(`${gateway.url}/api/catalog/products/prod_01`, '127.0.0.4', { 'x-forwarded-for': '203.0.113.12' })).status).toBe(200);
    expect(catalog.lastHeaders['cf-connecting-ip']).toBe('::ffff:127.0.0.4');
    expect((await getFrom(`${gateway.url}/api/catalog/products/prod_01`, '127.0.0.4', { 'x-forwarded-for': '203.0.113.13' })).status).toBe(429);
  });
});
