import { env } from 'cloudflare:workers';
import { Hono } from 'hono';
import { afterEach, describe, expect, it } from 'vitest';
import type { AppEnv } from '../../../shared/middleware/app-env';
import { createServiceApp } from '../../../shared/middleware/service-app';
import { WeightedChoice, type VersionWeights } from '../../../shared/routing/weighted-choice';
import type { GatewayBindings } from '../../../workers/gateway/env';
import {
  chooseVersion,
  chosenVersion,
  isVersioned,
  routeUpstreams,
  routeVersionProblems,
  routeWeights,
  serviceTargets,
  versionResponseHeaders,
  type VersionedRoute,
} from '../../../workers/gateway/traffic/route-versions';
import { routes, type Route } from '../../../workers/gateway/routes';
import { identifiesCaller } from '../../../workers/gateway/traffic/visitor-cookie';
import { callWorker, testEnv } from '../../support/call-worker';

const catalog = routes.find((route) => route.name === 'catalog') as VersionedRoute;
const USERS = Array.from({ length: 2_000 }, (_, i) => `usr_split_${i}`);

/**
 * The gateway's version choice on its own: an app whose one endpoint answers with the version
 * `chooseVersion` picks for the catalog route, as the user named in x-test-user (what edge auth
 * would have verified) or anonymously. Its own env object, so its own isolate-level cache.
 */
function chooser(route: Route = catalog) {
  const gwEnv = testEnv({});
  const app: Hono<AppEnv<GatewayBindings>> = createServiceApp<GatewayBindings>({ service: 'gateway' });
  app.use(versionResponseHeaders);
  app.get('/choose', async (c) => {
    const user = c.req.header('x-test-user');
    const identity = user ? { userId: user, roles: [] } : null;
    const version = await chooseVersion(c, route, identity);
    // Asked again (say, by a cache lookup), the same answer: the choice is made once per request.
    const again = await chooseVersion(c, route, identity);
    return c.json({ version: version ?? null, again: again ?? null, chosen: chosenVersion(c) ?? null });
  });
  const call = (headers: Record<string, string> = {}) => callWorker(app, '/choose', { headers }, gwEnv);
  const versionOf = async (user: string) => ((await (await call({ 'x-test-user': user })).json()) as { version: string }).version;
  const setWeights = (weights: VersionWeights) => routeWeights(gwEnv, route as VersionedRoute).set(weights);
  return { call, versionOf, setWeights };
}

const shares = (versions: string[]) => {
  const counts: Record<string, number> = {};
  for (const version of versions) counts[version] = (counts[version] ?? 0) + 1;
  return Object.fromEntries(Object.entries(counts).map(([version, n]) => [version, (n / versions.length) * 100]));
};

afterEach(async () => {
  // The weights live in a Durable Object, which outlasts a test.
  await env.ROUTE_WEIGHTS.get(env.ROUTE_WEIGHTS.idFromName('catalog')).clear();
});

describe('choosing a version per caller', () => {
  it('sends everyone to v1 by default (catalog: v1 100, v2 0)', async () => {
    const { versionOf } = chooser();
    for (const user of USERS.slice(0, 50)) expect(await versionOf(user)).toBe('v1');
  });

  it.each([
    { v1: 70, v2: 30 },
    { v1: 95, v2: 5 },
    { v1: 50, v2: 50 },
  ])('splits 2,000 distinct users within 5 points of %o, each exactly as WeightedChoice keyed by user id', async (weights) => {
    const { versionOf, setWeights } = chooser();
    await setWeights(weights);
    const expected = new WeightedChoice(weights, 'catalog');
    const versions: string[] = [];
    for (const user of USERS) {
      const version = await versionOf(user);
      expect(version).toBe(expected.choose(user));
      versions.push(version);
    }
    const split = shares(versions);
    for (const [version, percent] of Object.entries(weights)) expect(Math.abs((split[version] ?? 0) - percent)).toBeLessThanOrEqual(5);
  });

  it('keeps a user on their version on every call, and across an unrelated weight change', async () => {
    const { versionOf, setWeights } = chooser();
    await setWeights({ v1: 70, v2: 30 });
    const before = new Map<string, string>();
    for (const user of USERS.slice(0, 500)) before.set(user, await versionOf(user));
    for (const user of USERS.slice(0, 20)) for (let i = 0; i < 3; i++) expect(await versionOf(user)).toBe(before.get(user));

    // 10 more points to the canary: only the users in that slice move, and only into v2.
    await setWeights({ v1: 60, v2: 40 });
    let moved = 0;
    for (const [user, version] of before) {
      const now = await versionOf(user);
      if (now !== version) {
        expect([version, now]).toEqual(['v1', 'v2']);
        moved++;
      }
    }
    expect(moved / before.size).toBeGreaterThan(0.05);
    expect(moved / before.size).toBeLessThan(0.15);
  });

  it('sets a stratus_uid cookie for an anonymous caller without one, and chooses by it from then on', async () => {
    const { call, setWeights } = chooser();
    await setWeights({ v1: 50, v2: 50 });
    const seen = new Set<string>();
    // Visitors until both versions were seen, at least 8 (at 50/50, 40 all on one side: 2 in 2^40).
    for (let visitor = 0; visitor < 40 && (visitor < 8 || seen.size < 2); visitor++) {
      const first = await call();
      const cookie = first.headers.get('set-cookie') ?? '';
      expect(cookie).toMatch(/^stratus_uid=[0-9a-f-]{36}; Max-Age=31536000; Path=\/; HttpOnly; Secure; SameSite=Lax$/);
      const id = /^stratus_uid=([^;]+)/.exec(cookie)![1]!;
      const { version } = (await first.json()) as { version: string };
      expect(version).toBe(new WeightedChoice({ v1: 50, v2: 50 }, 'catalog').choose(id));
      expect(first.headers.get('x-served-by')).toBe(`catalog@${version}`);
      seen.add(version);
      for (let i = 0; i < 3; i++) {
        const next = await call({ cookie: `theme=dark; stratus_uid=${id}` });
        expect(next.headers.get('set-cookie')).toBeNull();
        expect(((await next.json()) as { version: string }).version).toBe(version);
      }
    }
    expect(seen).toEqual(new Set(['v1', 'v2']));
  });

  it('replaces a cookie it could not have minted; a signed-in caller gets none', async () => {
    const { call } = chooser();
    for (const bad of ['usr_admin', 'not-a-uuid', '00000000-0000-4000-8000-00000000000G']) {
      expect((await call({ cookie: `stratus_uid=${bad}` })).headers.get('set-cookie')).toMatch(/^stratus_uid=[0-9a-f-]{36};/);
    }
    const signedIn = await call({ 'x-test-user': 'usr_with_token' });
    expect(signedIn.headers.get('set-cookie')).toBeNull();
    expect(await signedIn.json()).toEqual({ version: 'v1', again: 'v1', chosen: 'v1' });
  });

  it('leaves a route without versions alone: no version, no header, no cookie', async () => {
    const payments = routes.find((route) => route.name === 'payments')!;
    const response = await chooser(payments).call();
    expect(await response.json()).toEqual({ version: null, again: null, chosen: null });
    expect(response.headers.get('x-served-by')).toBeNull();
    expect(response.headers.get('set-cookie')).toBeNull();
  });
});

describe('the route table', () => {
  it('has valid versions and default weights', () => {
    expect(routes.flatMap(routeVersionProblems)).toEqual([]);
    expect(routes.filter(isVersioned).map((route) => [route.name, route.defaultWeights])).toEqual([['catalog', { v1: 100, v2: 0 }]]);
  });

  it('refuses versions without defaults, defaults naming other versions, and weights not adding up to 100', () => {
    const base: Route = { ...catalog };
    expect(routeVersionProblems({ ...base, defaultWeights: undefined })).toEqual(['catalog: versions need defaultWeights']);
    expect(routeVersionProblems({ ...base, defaultWeights: { v1: 100, v3: 0 } })).toEqual(['catalog: defaultWeights must name exactly the versions v1, v2']);
    expect(routeVersionProblems({ ...base, defaultWeights: { v1: 90, v2: 0 } })).toEqual(['catalog: weights must add up to 100, got 90']);
  });

  it('gives the canary its own breaker and names it as a service for chaos and readiness', () => {
    expect(routeUpstreams(catalog)).toEqual([
      { name: 'catalog', service: 'CATALOG' },
      { name: 'catalog@v2', service: 'CATALOG_CANARY', version: 'v2' },
    ]);
    // The canary runs the catalog's code, so its service tokens are for the catalog.
    expect(serviceTargets()).toContainEqual({ name: 'catalog-canary', binding: 'CATALOG_CANARY', audience: 'catalog' });
    expect(serviceTargets().map((target) => target.name)).toEqual(['catalog', 'catalog-canary', 'users', 'orders', 'notifications', 'payments', 'ledger']);
  });
});

describe('the visitor cookie', () => {
  it('identifies no one: only Authorization or another cookie makes an answer the caller\'s own', () => {
    const request = (headers: Record<string, string>) => new Request('https://gw.test/', { headers });
    expect(identifiesCaller(request({}))).toBe(false);
    expect(identifiesCaller(request({ cookie: 'stratus_uid=0b9d3a36-3c3e-4f4e-9a53-5a1b7b1f1c2d' }))).toBe(false);
    expect(identifiesCaller(request({ cookie: ' stratus_uid=x ; ' }))).toBe(false);
    expect(identifiesCaller(request({ cookie: 'stratus_uid=x; session=abc' }))).toBe(true);
    expect(identifiesCaller(request({ cookie: 'session=abc' }))).toBe(true);
    expect(identifiesCaller(request({ authorization: 'Bearer t' }))).toBe(true);
  });
});
