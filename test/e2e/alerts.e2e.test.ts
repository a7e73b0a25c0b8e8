import { runInDurableObject } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { Webhook } from 'standardwebhooks';
import { afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import gateway from '../../workers/gateway/index';
import type { AlertEvaluator } from '../../workers/gateway/monitoring/alert-evaluator';
import { callWorker, testEnv } from '../support/call-worker';
import { asGateway } from '../support/service-token';

/**
 * The alert rules end to end, time-scaled (vitest.config.mts): the AlertEvaluator evaluates every
 * 200 ms, and `catalog-breaker` fires once the catalog's breaker has been open 0.3 s. Catalog
 * chaos opens the breaker; the alert goes pending → firing; chaos off, the breaker closes and the
 * alert resolves. A stand-in receiver at https://alerts.test (the global fetch, intercepted as
 * the dead-letter tests do) gets the notifications, whose Standard Webhooks signatures are
 * verified with the spec's library and this run's secret.
 */

const admin = { authorization: 'Bearer test-admin-token' };
const policies = { catalog: { retry: false, timeoutMs: 300, breaker: { minimumCalls: 4, openDurationMs: 300, halfOpenMaxCalls: 2 } } };
const chaosAllowed = () => testEnv({ ALLOW_CHAOS: 'true', ROUTE_POLICIES: JSON.stringify(policies), CACHE_ENABLED: 'false' });
const asOps = (service: string) => asGateway(service, null, { scope: 'ops' });

interface Alerts {
  items: { rule: string; state: string; since: string; value?: number }[];
}
interface Received {
  body: string;
  headers: Record<string, string>;
}

function webhookReceiver() {
  const received: Received[] = [];
  const realFetch = globalThis.fetch.bind(globalThis);
  vi.spyOn(globalThis, 'fetch').mockImplementation(async (input: RequestInfo | URL, init?: RequestInit) => {
    const request = new Request(input, init);
    if (new URL(request.url).origin !== 'https://alerts.test') return realFetch(input, init);
    received.push({ body: await request.text(), headers: Object.fromEntries(request.headers) });
    return new Response(null, { status: 204 });
  });
  return received;
}

async function until<T>(what: string, read: () => Promise<T>, done: (value: T) => boolean, timeoutMs = 4_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; last: ${JSON.stringify(value)}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/**
 * The project's test files share one runtime, and with it the one AlertEvaluator, which has been
 * evaluating since the first file armed it (a failed synthetic check in another file fires
 * `synthetic-check`). This file starts from an evaluator that has seen nothing: its evaluation in
 * flight lands first, then its stored and in-memory state go (the fields are private to the class,
 * not to the runtime).
 */
beforeAll(async () => {
  await runInDurableObject(env.ALERTS.get(env.ALERTS.idFromName('global')), async (instance, state) => {
    const evaluator = instance as AlertEvaluator;
    await evaluator.evaluate();
    await state.storage.delete(['statuses', 'samples', 'pending']);
    Object.assign(evaluator, { statuses: {}, samples: {}, pending: [] });
  });
});

// Catalog chaos off and its breaker's window empty, before (other files' calls are in it) and after.
async function calmCatalog() {
  await env.CATALOG.fetch('https://catalog.internal/_chaos', { method: 'DELETE', headers: await asOps('catalog') });
  await env.BREAKERS.get(env.BREAKERS.idFromName('catalog')).reset();
}
beforeEach(calmCatalog);
afterEach(async () => {
  vi.restoreAllMocks();
  await calmCatalog();
});

describe('alerts', () => {
  it('lists every configured rule, inactive before anything happened', async () => {
    const response = await callWorker(gateway, '/_ops/alerts', { headers: admin });
    expect(response.status).toBe(200);
    const { items } = (await response.json()) as Alerts;
    expect(items.map(({ rule, state }) => ({ rule, state }))).toEqual([
      { rule: 'catalog-breaker', state: 'inactive' },
      { rule: 'synthetic-check', state: 'inactive' },
    ]);
    expect(Number.isNaN(Date.parse(items[0]!.since))).toBe(false);
  });

  it('catalog chaos takes the breaker alert pending → firing → resolved, with signed firing and resolved notifications', async () => {
    const received = webhookReceiver();
    const gw = chaosAllowed();
    const alert = async () => ((await (await callWorker(gateway, '/_ops/alerts', { headers: admin }, gw)).json()) as Alerts).items.find((a) => a.rule === 'catalog-breaker')!;
    expect((await alert()).state).toBe('inactive');

    const on = await callWorker(gateway, '/_ops/chaos/catalog', { method: 'PUT', headers: { ...admin, 'content-type': 'application/json' }, body: JSON.stringify({ failureRate: 1 }) }, gw);
    expect(on.status).toBe(200);
    for (let i = 0; i < 4; i++) await callWorker(gateway, `/api/catalog/products/alert-${i}`, {}, gw);

    // Open for less than `for` (0.3 s): pending, with the breaker's gauge value (2 = open).
    const pending = await until('pending', alert, (a) => a.state !== 'inactive');
    expect(pending.state).toBe('pending');
    expect(pending.value).toBe(2);
    const firing = await until('firing', alert, (a) => a.state === 'firing');
    expect(Date.parse(firing.since) - Date.parse(pending.since)).toBeGreaterThanOrEqual(300);

    // Chaos off: after the open period, uncached requests probe and two good ones close the breaker.
    expect((await callWorker(gateway, '/_ops/chaos/catalog', { method: 'DELETE', headers: admin }, gw)).ok).toBe(true);
    await until(
      'the breaker to close',
      async () => {
        await callWorker(gateway, '/api/catalog/products?limit=1', {}, gw);
        return ((await (await callWorker(gateway, '/_ops/breakers', { headers: admin }, gw)).json()) as Record<string, { state: string }>).catalog?.state;
      },
      (state) => state === 'closed',
    );
    await until('resolved', alert, (a) => a.state === 'resolved');

    // This rule's notifications only: the synthetic-check rule may speak for another file's checks.
    const verifier = new Webhook(env.ALERT_WEBHOOK_SECRET!);
    type Notification = { status: string; alerts: { status: string; labels: Record<string, string>; startsAt: string; endsAt: string }[] };
    const breakerNotes = () => received.filter((note) => (verifier.verify(note.body, note.headers) as Notification).alerts[0]!.labels.alertname === 'catalog-breaker');
    const notes = await until('both notifications', async () => breakerNotes(), (r) => r.length >= 2);
    const bodies = notes.map((note) => verifier.verify(note.body, note.headers) as Notification);
    expect(bodies.map((b) => b.status)).toEqual(['firing', 'resolved']);
    expect(bodies[0]!.alerts[0]!.labels).toMatchObject({ alertname: 'catalog-breaker', kind: 'breaker_open', upstream: 'catalog' });
    expect(bodies[1]!.alerts[0]!.startsAt).toBe(bodies[0]!.alerts[0]!.startsAt);
    expect(Date.parse(bodies[1]!.alerts[0]!.endsAt)).toBeGreaterThan(Date.parse(bodies[1]!.alerts[0]!.startsAt));
    // A tampered body, or another secret, does not verify.
    expect(() => verifier.verify(notes[0]!.body.replace('firing', 'resolved'), notes[0]!.headers)).toThrow();
    expect(() => new Webhook(`whsec_${btoa('another-secret-of-32-bytes-long!')}`).verify(notes[0]!.body, notes[0]!.headers)).toThrow();
    expect(notes[0]!.headers['webhook-id']).not.toBe(notes[1]!.headers['webhook-id']);
  });
});
