import { env } from 'cloudflare:workers';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { WeightedChoice } from '../../shared/routing/weighted-choice';
import gateway from '../../workers/gateway/index';
import { bearerFor } from '../support/access-token';
import { callWorker, testEnv } from '../support/call-worker';
import { asGateway } from '../support/service-token';

/**
 * Releases without a deploy on the catalog route (v1, and its canary v2): an operator pinning
 * their own requests to a version, allow lists ("employees first"), and automated canary
 * rollouts that promote step by step or roll back on their own, judged on the gateway's own
 * per-version metrics.
 */

const operator = { authorization: 'Bearer test-admin-token', 'content-type': 'application/json' };
const PRODUCT = '/api/catalog/products/prod_release_1';
const users = new Map<string, Record<string, string>>();

const putRoute = (gw: Cloudflare.Env, body: unknown) => callWorker(gateway, '/_ops/routes/catalog', { method: 'PUT', headers: operator, body: JSON.stringify(body) }, gw);
const routeNow = async (gw: Cloudflare.Env) => ((await (await callWorker(gateway, '/_ops/routes', { headers: operator }, gw)).json()) as Record<string, { weights: Record<string, number>; allow: Record<string, string[]> }>).catalog!;
const startRollout = (gw: Cloudflare.Env, body: unknown) => callWorker(gateway, '/_ops/rollouts/catalog', { method: 'POST', headers: operator, body: JSON.stringify(body) }, gw);
const rollout = async (gw: Cloudflare.Env) => (await (await callWorker(gateway, '/_ops/rollouts/catalog', { headers: operator }, gw)).json()) as Rollout;

interface Rollout {
  status: string;
  canaryPercent: number;
  step: number;
  transitions: { event: string; from: number; to: number; reason: string; window?: { requests: number; errors: number } }[];
}

async function served(gw: Cloudflare.Env, headers: Record<string, string>) {
  const response = await callWorker(gateway, PRODUCT, { headers }, gw);
  const body = (await response.json()) as { type?: string };
  return { status: response.status, by: response.headers.get('x-served-by'), version: response.headers.get('x-service-version'), type: body.type };
}

/** Every user's request once: the traffic a rollout is judged on. */
async function traffic(gw: Cloudflare.Env) {
  for (const headers of users.values()) await served(gw, headers);
}

beforeAll(async () => {
  await env.TEST_CATALOG_DB.exec(
    "INSERT OR IGNORE INTO products (id, name, description, price_cents, currency, stock) VALUES ('prod_release_1', 'Release Lamp', '', 1500, 'EUR', 9)",
  );
  for (let i = 0; i < 16; i++) users.set(`usr_release_${i}`, await bearerFor(`usr_release_${i}`, 'customer'));
});

const asOps = (audience: string) => asGateway(audience, null, { scope: 'ops' });

afterEach(async () => {
  // Rollouts (and their alarms), weights, chaos and breakers live in Durable Objects, which outlast a test.
  await env.ROLLOUTS.get(env.ROLLOUTS.idFromName('catalog')).clear();
  await env.ROUTE_WEIGHTS.get(env.ROUTE_WEIGHTS.idFromName('catalog')).clear();
  await env.CATALOG_CANARY.fetch('https://catalog-canary.internal/_chaos', { method: 'DELETE', headers: await asOps('catalog') });
  for (const upstream of ['catalog', 'catalog@v2']) await env.BREAKERS.get(env.BREAKERS.idFromName(upstream)).reset();
});

describe('an operator pins their own requests to a version', () => {
  it('serves the canary to a request with x-stratus-version and the ops token, while it has no traffic', async () => {
    const gw = testEnv({});
    const alice = users.get('usr_release_0')!;
    expect(await served(gw, alice)).toMatchObject({ status: 200, by: 'catalog@v1' });
    const pinned = { ...alice, 'x-stratus-version': 'v2', 'x-stratus-ops-token': 'test-admin-token' };
    expect(await served(gw, pinned)).toMatchObject({ status: 200, by: 'catalog@v2', version: 'v2' });
    // Anonymous too: the ops token is its own header, so Authorization stays the caller's.
    expect(await served(gw, { 'x-stratus-version': 'v2', 'x-stratus-ops-token': 'test-admin-token' })).toMatchObject({ status: 200, by: 'catalog@v2' });
    // Everyone else still gets v1.
    expect(await served(gw, users.get('usr_release_1')!)).toMatchObject({ status: 200, by: 'catalog@v1' });
  });

  it('refuses a pin without the ops token (403, not ignored) or with a version the route lacks (400)', async () => {
    const gw = testEnv({});
    const alice = users.get('usr_release_0')!;
    const attempts: Record<string, string>[] = [
      { ...alice, 'x-stratus-version': 'v2' },
      { 'x-stratus-version': 'v2', 'x-stratus-ops-token': 'wrong' },
      // The ops token in Authorization is not an access token: 401 before any pin is looked at.
      { ...alice, 'x-stratus-version': 'v2', authorization: 'Bearer test-admin-token' },
    ];
    for (const headers of attempts) {
      const response = await callWorker(gateway, PRODUCT, { headers: { ...headers, 'cf-connecting-ip': '198.51.100.77' } }, gw);
      expect([JSON.stringify(headers), response.status]).toEqual([JSON.stringify(headers), headers.authorization === 'Bearer test-admin-token' ? 401 : 403]);
      if (response.status === 403) expect(await response.json()).toMatchObject({ type: '/problems/version-pin-refused' });
    }
    const unknown = await callWorker(gateway, PRODUCT, { headers: { 'x-stratus-version': 'v9', 'x-stratus-ops-token': 'test-admin-token' } }, gw);
    expect(unknown.status).toBe(400);
    expect(await unknown.json()).toMatchObject({ type: '/problems/unknown-version' });
  });
});

describe('allow lists per version ("employees first")', () => {
  it('sends allow-listed users to the canary at 0%, keeps the lists when weights change, and refuses bad lists', async () => {
    const gw = testEnv({});
    const put = await putRoute(gw, { weights: { v1: 100, v2: 0 }, allow: { v2: ['usr_release_0', 'usr_release_1'] } });
    expect(put.status).toBe(200);
    expect(await put.json()).toEqual({ catalog: { versions: ['v1', 'v2'], weights: { v1: 100, v2: 0 }, allow: { v2: ['usr_release_0', 'usr_release_1'] } } });
    expect(await served(gw, users.get('usr_release_0')!)).toMatchObject({ status: 200, by: 'catalog@v2', version: 'v2' });
    expect(await served(gw, users.get('usr_release_1')!)).toMatchObject({ by: 'catalog@v2' });
    for (const user of ['usr_release_2', 'usr_release_3']) expect((await served(gw, users.get(user)!)).by).toBe('catalog@v1');
    // An anonymous caller is on no list.
    expect((await served(gw, { 'cf-connecting-ip': '198.51.100.9' })).by).toBe('catalog@v1');

    // Moving the weights alone keeps the lists: the employees stay on v2 even at v2 0% → 100% → 0%.
    expect((await putRoute(gw, { weights: { v1: 100, v2: 0 } })).status).toBe(200);
    expect((await routeNow(testEnv({}))).allow).toEqual({ v2: ['usr_release_0', 'usr_release_1'] });
    expect((await served(testEnv({}), users.get('usr_release_0')!)).by).toBe('catalog@v2');

    for (const [allow, path] of [
      [{ v3: ['usr_x'] }, 'allow.v3'],
      [{ v1: ['usr_x'], v2: ['usr_x'] }, 'allow.v2.0'],
      [{ v2: [''] }, 'allow.v2.0'],
      [{ v2: 'usr_x' }, 'allow.v2'],
    ] as const) {
      const response = await putRoute(gw, { weights: { v1: 100, v2: 0 }, allow });
      expect(response.status).toBe(400);
      expect(((await response.json()) as { errors: { path: string }[] }).errors.map((e) => e.path)).toContain(path);
    }
    expect((await routeNow(testEnv({}))).allow).toEqual({ v2: ['usr_release_0', 'usr_release_1'] });
    // Empty lists clear them.
    await putRoute(gw, { weights: { v1: 100, v2: 0 }, allow: {} });
    expect((await served(testEnv({}), users.get('usr_release_0')!)).by).toBe('catalog@v1');
  });
});

describe('POST /_ops/rollouts/catalog: an automated canary', () => {
  it('promotes a healthy canary step by step to 100, every transition recorded', { timeout: 10_000 }, async () => {
    const gw = testEnv({ ROUTE_WEIGHTS_REFRESH_MS: '0' });
    const started = await startRollout(gw, { steps: [25, 100], holdSeconds: 0.3, maxErrorRate: 0.1, maxP99Ms: 5_000, minRequests: 2 });
    expect(started.status).toBe(201);
    expect(started.headers.get('location')).toBe('/_ops/rollouts/catalog');
    expect(await started.json()).toMatchObject({ route: 'catalog', canary: 'v2', stable: 'v1', status: 'running', step: 1, canaryPercent: 25 });
    expect((await routeNow(gw)).weights).toEqual({ v1: 75, v2: 25 });
    // Only one at a time per route.
    expect((await startRollout(gw, { steps: [100], holdSeconds: 1, maxErrorRate: 0, maxP99Ms: 100 })).status).toBe(409);

    const deadline = Date.now() + 8_000;
    let now = await rollout(gw);
    while (now.status === 'running' && Date.now() < deadline) {
      await traffic(gw);
      now = await rollout(gw);
    }
    expect(now.status).toBe('completed');
    expect(now.canaryPercent).toBe(100);
    // A step that had too little canary traffic when its hold ended is recorded as held, then promoted.
    const moves = now.transitions.filter((t) => t.event !== 'held');
    expect(moves.map((t) => `${t.event}:${t.from}->${t.to}`)).toEqual(['started:0->25', 'promoted:25->100', 'completed:100->100']);
    expect(moves[1]!.window!.requests).toBeGreaterThanOrEqual(2);
    expect((await routeNow(testEnv({}))).weights).toEqual({ v1: 0, v2: 100 });
    for (const headers of [...users.values()].slice(0, 4)) expect((await served(gw, headers)).by).toBe('catalog@v2');
  });

  // Up to 10 s: a rollout is judged on real traffic over real (scaled-down) time.
  it('rolls the canary back to 0 on its own when chaos on it breaks its error rate', { timeout: 10_000 }, async () => {
    const gw = testEnv({ ALLOW_CHAOS: 'true', ROUTE_WEIGHTS_REFRESH_MS: '0' });
    // Held longer than the test waits: only the breach can end this step in time (its end would promote).
    expect((await startRollout(gw, { steps: [50, 100], holdSeconds: 5, maxErrorRate: 0.2, maxP99Ms: 5_000, minRequests: 3 })).status).toBe(201);
    const chaos = await callWorker(gateway, '/_ops/chaos/catalog-canary', { method: 'PUT', headers: operator, body: JSON.stringify({ failureRate: 1 }) }, gw);
    expect(chaos.status).toBe(200);
    const onCanary = [...users].filter(([user]) => new WeightedChoice({ v1: 50, v2: 50 }, 'catalog').choose(user) === 'v2');
    expect(onCanary.length).toBeGreaterThan(2);
    expect((await served(gw, onCanary[0]![1])).status).toBe(503);

    const deadline = Date.now() + 4_000;
    let now = await rollout(gw);
    while (now.status === 'running' && Date.now() < deadline) {
      await traffic(gw);
      now = await rollout(gw);
    }
    expect(now.status).toBe('rolled-back');
    expect(now.canaryPercent).toBe(0);
    const last = now.transitions.at(-1)!;
    expect(last).toMatchObject({ event: 'rolled-back', from: 50, to: 0 });
    expect(last.reason).toMatch(/^error rate/);
    expect(last.window!.errors).toBeGreaterThanOrEqual(3);
    expect((await routeNow(testEnv({}))).weights).toEqual({ v1: 100, v2: 0 });
    // The canary's users are back on v1 and answered.
    for (const [, headers] of onCanary) expect(await served(testEnv({}), headers)).toMatchObject({ status: 200, by: 'catalog@v1' });
  });

  it('rolls back when p99 crosses its bound (latency injected on the canary)', { timeout: 10_000 }, async () => {
    const gw = testEnv({ ALLOW_CHAOS: 'true', ROUTE_WEIGHTS_REFRESH_MS: '0', ROUTE_POLICIES: JSON.stringify({ catalog: { retry: false, timeoutMs: 5_000 } }) });
    expect((await startRollout(gw, { steps: [100], holdSeconds: 5, maxErrorRate: 1, maxP99Ms: 50, minRequests: 2 })).status).toBe(201);
    expect((await callWorker(gateway, '/_ops/chaos/catalog-canary', { method: 'PUT', headers: operator, body: JSON.stringify({ failureRate: 0, latencyMs: 120 }) }, gw)).status).toBe(200);
    const deadline = Date.now() + 4_000;
    let now = await rollout(gw);
    while (now.status === 'running' && Date.now() < deadline) {
      await served(gw, users.get('usr_release_0')!);
      now = await rollout(gw);
    }
    expect(now.status).toBe('rolled-back');
    expect(now.transitions.at(-1)!.reason).toMatch(/^p99 \d+ ms is above 50 ms/);
  });

  it('lets an operator abort (back to 0 at once), and moves no weights under a running rollout', async () => {
    const gw = testEnv({});
    await startRollout(gw, { steps: [10, 50, 100], holdSeconds: 60, maxErrorRate: 0.05, maxP99Ms: 1_000 });
    const move = await putRoute(gw, { weights: { v1: 50, v2: 50 } });
    expect(move.status).toBe(409);
    expect(await move.json()).toMatchObject({ type: '/problems/rollout-active' });
    // Allow lists (the same weights) may still change.
    expect((await putRoute(gw, { weights: { v1: 90, v2: 10 }, allow: { v2: ['usr_release_5'] } })).status).toBe(200);

    const aborted = await callWorker(gateway, '/_ops/rollouts/catalog', { method: 'DELETE', headers: operator, body: JSON.stringify({ note: 'saw errors in the logs' }) }, gw);
    expect(aborted.status).toBe(200);
    expect(await aborted.json()).toMatchObject({ status: 'aborted', canaryPercent: 0, transitions: [{ event: 'started' }, { event: 'aborted', reason: 'aborted by an operator: saw errors in the logs' }] });
    expect(await routeNow(testEnv({}))).toMatchObject({ weights: { v1: 100, v2: 0 }, allow: { v2: ['usr_release_5'] } });
    expect((await callWorker(gateway, '/_ops/rollouts/catalog', { method: 'DELETE', headers: operator }, gw)).status).toBe(409);
    const all = (await (await callWorker(gateway, '/_ops/rollouts', { headers: operator }, gw)).json()) as Record<string, Rollout | null>;
    expect(all.catalog?.status).toBe('aborted');
  });

  it('refuses a bad plan with problem+json naming the field, and starts nothing', async () => {
    const gw = testEnv({});
    const good = { steps: [10, 100], holdSeconds: 1, maxErrorRate: 0.05, maxP99Ms: 500 };
    const bad: [unknown, string][] = [
      [{ ...good, steps: [] }, 'steps'],
      [{ ...good, steps: [50, 20, 100] }, 'steps.1'],
      [{ ...good, steps: [10, 50] }, 'steps.1'],
      [{ ...good, steps: [0, 100] }, 'steps.0'],
      [{ ...good, steps: Array.from({ length: 21 }, (_, i) => i + 80) }, 'steps'],
      [{ ...good, holdSeconds: 0 }, 'holdSeconds'],
      [{ ...good, maxErrorRate: 2 }, 'maxErrorRate'],
      [{ ...good, maxP99Ms: 0 }, 'maxP99Ms'],
      [{ ...good, version: 'v1' }, 'version'],
      [{ ...good, extra: true }, '(root)'],
      [{ steps: [100] }, 'holdSeconds'],
    ];
    for (const [body, path] of bad) {
      const response = await startRollout(gw, body);
      expect([body, response.status]).toEqual([body, 400]);
      expect(response.headers.get('content-type')).toBe('application/problem+json');
      expect(((await response.json()) as { errors: { path: string }[] }).errors.map((e) => e.path)).toContain(path);
    }
    expect((await callWorker(gateway, '/_ops/rollouts/catalog', { headers: operator }, gw)).status).toBe(404);
    expect((await callWorker(gateway, '/_ops/rollouts/payments', { method: 'POST', headers: operator, body: JSON.stringify(good) }, gw)).status).toBe(404);
    expect((await routeNow(gw)).weights).toEqual({ v1: 100, v2: 0 });
  });
});
