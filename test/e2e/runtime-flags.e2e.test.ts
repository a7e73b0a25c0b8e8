import { env } from 'cloudflare:workers';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { evaluateFlag } from '../../shared/flags/feature-flag';
import { MAX_FLAGS } from '../../shared/flags/flag-set';
import gateway from '../../workers/gateway/index';
import { bearerFor } from '../support/access-token';
import { callWorker, json, ownAddress, testEnv } from '../support/call-worker';

/**
 * Feature flags changed at run time (`PUT /_ops/flags/:key`, kept in the FlagStore Durable
 * Object over the FEATURE_FLAGS defaults), seen by `/api/flags` and by the orders service through
 * the service token, in every isolate within a second, with no deploy.
 */

const operator = { authorization: 'Bearer test-admin-token', 'content-type': 'application/json' };
/** 200 units at 31.00: 6,200.00, over the new checkout's 5,000.00 limit. */
const BIG_ORDER = { items: [{ productId: 'prod_flags_big', quantity: 200 }] };
const SMALL_ORDER = { items: [{ productId: 'prod_flags_big', quantity: 1 }] };
let alice: Record<string, string>;
let bob: Record<string, string>;

const putFlag = (gw: Cloudflare.Env, key: string, body: unknown) =>
  callWorker(gateway, `/_ops/flags/${key}`, { method: 'PUT', headers: operator, body: typeof body === 'string' ? body : JSON.stringify(body) }, gw);
const opsFlags = async (gw: Cloudflare.Env) => (await (await callWorker(gateway, '/_ops/flags', { headers: operator }, gw)).json()) as Record<string, Record<string, unknown>>;
const flagsFor = async (gw: Cloudflare.Env, headers: Record<string, string>) =>
  ((await (await callWorker(gateway, '/api/flags', { headers }, gw)).json()) as { flags: Record<string, boolean> }).flags;
const place = (gw: Cloudflare.Env, headers: Record<string, string>, body: unknown) =>
  callWorker(gateway, '/api/orders', json(body, { ...headers, 'idempotency-key': `k-${crypto.randomUUID()}` }), gw);

beforeAll(async () => {
  alice = await bearerFor('usr_flags_alice', 'customer');
  bob = await bearerFor('usr_flags_bob', 'customer');
  await env.TEST_CATALOG_DB.exec(
    "INSERT OR IGNORE INTO products (id, name, description, price_cents, currency, stock) VALUES ('prod_flags_big', 'Tent', '', 3100, 'EUR', 100000)",
  );
});

afterEach(async () => {
  // The operator's flags live in a Durable Object, which outlasts a test.
  await env.FLAGS.get(env.FLAGS.idFromName('flags')).clear();
});

describe('PUT /_ops/flags/new-checkout', () => {
  it('changes /api/flags and the orders checkout in every isolate within a second, with no deploy', async () => {
    const gw = testEnv({});
    // Another isolate, which has read the flags (none) and trusts them for up to FLAGS_REFRESH_MS (1 s).
    const other = testEnv({});
    expect(await flagsFor(other, alice)).toEqual({});
    expect((await place(other, alice, BIG_ORDER)).status).toBe(202);

    const changed = Date.now();
    const put = await putFlag(gw, 'new-checkout', { enabled: true });
    expect(put.status).toBe(200);
    expect(await put.json()).toEqual({ 'new-checkout': { enabled: true, rolloutPercent: 100, source: 'operator', updatedAt: expect.any(String) } });
    // The isolate that took the change uses it at once...
    expect(await flagsFor(gw, alice)).toEqual({ 'new-checkout': true });
    // ...the other within a second.
    await expect.poll(async () => (await flagsFor(other, alice))['new-checkout'], { timeout: 2_000, interval: 50 }).toBe(true);
    expect(Date.now() - changed).toBeLessThan(1_500);

    // The orders service reads it from the service token: an order over 5,000.00 is refused before anything is taken.
    const refused = await place(other, alice, BIG_ORDER);
    expect(refused.status).toBe(422);
    expect(refused.headers.get('content-type')).toBe('application/problem+json');
    expect(await refused.json()).toMatchObject({ type: '/problems/order-over-limit', status: 422 });
    expect((await place(other, alice, SMALL_ORDER)).status).toBe(202);

    // Off again: the old checkout, everywhere within a second.
    expect((await putFlag(gw, 'new-checkout', { enabled: false })).status).toBe(200);
    await expect.poll(async () => (await flagsFor(other, alice))['new-checkout'], { timeout: 2_000, interval: 50 }).toBe(false);
    expect((await place(other, alice, BIG_ORDER)).status).toBe(202);
  });

  it('is evaluated per caller: allow and deny lists and the rollout percentage decide who gets the new checkout', async () => {
    const gw = testEnv({});
    const flag = { enabled: true, rolloutPercent: 0, allow: ['usr_flags_alice'], deny: ['usr_flags_bob'] };
    expect((await putFlag(gw, 'new-checkout', flag)).status).toBe(200);
    expect(await flagsFor(gw, alice)).toEqual({ 'new-checkout': true });
    expect(await flagsFor(gw, bob)).toEqual({ 'new-checkout': false });
    expect((await place(gw, alice, BIG_ORDER)).status).toBe(422);
    expect((await place(gw, bob, BIG_ORDER)).status).toBe(202);

    // 50%: each user gets what the stable bucketing says, the same as /api/flags shows them.
    expect((await putFlag(gw, 'new-checkout', { enabled: true, rolloutPercent: 50 })).status).toBe(200);
    const seen = new Set<boolean>();
    for (let i = 0; i < 12; i++) {
      const user = `usr_flags_${i}`;
      const expected = evaluateFlag({ key: 'new-checkout', enabled: true, rolloutPercent: 50 }, user);
      const headers = await bearerFor(user, 'customer');
      expect((await flagsFor(gw, headers))['new-checkout']).toBe(expected);
      seen.add(expected);
    }
    expect(seen).toEqual(new Set([true, false]));
  });

  it('keeps FEATURE_FLAGS as the defaults: an operator flag replaces one, and DELETE brings the default back', async () => {
    const gw = testEnv({ FEATURE_FLAGS: JSON.stringify([{ key: 'new-checkout', enabled: false, rolloutPercent: 100 }, { key: 'dark-mode', enabled: true, rolloutPercent: 100 }]) });
    expect(await opsFlags(gw)).toEqual({
      'new-checkout': { enabled: false, rolloutPercent: 100, source: 'default' },
      'dark-mode': { enabled: true, rolloutPercent: 100, source: 'default' },
    });
    await putFlag(gw, 'new-checkout', { enabled: true, allow: ['usr_flags_alice'], rolloutPercent: 0 });
    expect((await opsFlags(gw))['new-checkout']).toMatchObject({ enabled: true, rolloutPercent: 0, allow: ['usr_flags_alice'], source: 'operator' });
    expect(await flagsFor(gw, alice)).toEqual({ 'new-checkout': true, 'dark-mode': true });

    expect((await callWorker(gateway, '/_ops/flags/new-checkout', { method: 'DELETE', headers: operator }, gw)).status).toBe(204);
    expect((await opsFlags(gw))['new-checkout']).toEqual({ enabled: false, rolloutPercent: 100, source: 'default' });
    expect(await flagsFor(gw, alice)).toEqual({ 'new-checkout': false, 'dark-mode': true });
    expect((await callWorker(gateway, '/_ops/flags/new-checkout', { method: 'DELETE', headers: operator }, gw)).status).toBe(404);
  });

  it('refuses a bad body or key with problem+json naming the field, and changes nothing', async () => {
    const gw = testEnv({});
    await putFlag(gw, 'new-checkout', { enabled: true, rolloutPercent: 10 });
    const tooMany = Array.from({ length: 1_001 }, (_, i) => `usr_${i}`);
    const bad: [string, unknown, string][] = [
      ['new-checkout', {}, 'enabled'],
      ['new-checkout', { enabled: 'yes' }, 'enabled'],
      ['new-checkout', { enabled: true, rolloutPercent: 150 }, 'rolloutPercent'],
      ['new-checkout', { enabled: true, rolloutPercent: 12.345 }, 'rolloutPercent'],
      ['new-checkout', { enabled: true, allow: ['usr_1'], deny: ['usr_1'] }, 'allow'],
      ['new-checkout', { enabled: true, allow: [''] }, 'allow.0'],
      ['new-checkout', { enabled: true, allow: tooMany }, 'allow'],
      ['new-checkout', { enabled: true, note: 'extra' }, '(root)'],
      ['new-checkout', [], '(root)'],
      ['bad%20key', { enabled: true }, 'key'],
      ['-leading', { enabled: true }, 'key'],
    ];
    for (const [key, body, path] of bad) {
      const response = await putFlag(gw, key, body);
      expect([key, body === tooMany ? 'tooMany' : body, response.status]).toEqual([key, body === tooMany ? 'tooMany' : body, 400]);
      expect(response.headers.get('content-type')).toBe('application/problem+json');
      const problem = (await response.json()) as { errors: { path: string }[] };
      expect(problem.errors.map((e) => e.path)).toContain(path);
    }
    expect((await putFlag(gw, 'new-checkout', '{"enabled":')).status).toBe(400);
    expect(await opsFlags(testEnv({}))).toEqual({ 'new-checkout': { enabled: true, rolloutPercent: 10, source: 'operator', updatedAt: expect.any(String) } });
  });

  it(`holds at most ${MAX_FLAGS} flags, defaults included: a new key past that is a 409, an existing one may change`, async () => {
    const defaults = Array.from({ length: MAX_FLAGS }, (_, i) => ({ key: `flag-${i}`, enabled: false, rolloutPercent: 0 }));
    const gw = testEnv({ FEATURE_FLAGS: JSON.stringify(defaults) });
    const refused = await putFlag(gw, 'one-more', { enabled: true });
    expect(refused.status).toBe(409);
    expect(await refused.json()).toMatchObject({ type: '/problems/too-many-flags' });
    expect((await putFlag(gw, 'flag-7', { enabled: true })).status).toBe(200);
    expect(Object.keys(await opsFlags(gw))).toHaveLength(MAX_FLAGS);
  });

  it('is for the operator only (401)', async () => {
    const gw = testEnv({});
    for (const headers of [{}, { authorization: 'Bearer wrong', 'cf-connecting-ip': ownAddress() }, alice]) {
      expect((await callWorker(gateway, '/_ops/flags/new-checkout', { method: 'PUT', headers: { ...headers, 'content-type': 'application/json' }, body: '{"enabled":true}' }, gw)).status).toBe(401);
      expect((await callWorker(gateway, '/_ops/flags', { headers }, gw)).status).toBe(401);
    }
    expect(await opsFlags(gw)).toEqual({});
  });
});
