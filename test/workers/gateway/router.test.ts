import { RegExpRouter } from 'hono/router/reg-exp-router';
import { describe, expect, it } from 'vitest';
import gateway from '../../../workers/gateway/index';
import { callWorker } from '../../support/call-worker';

/**
 * Hono's SmartRouter takes the RegExpRouter (one regular expression per method, the fast one) only
 * when it can hold every route of the app; a single route it cannot hold (`/_ops/dlq/redrive` beside
 * `/_ops/dlq/:dlqId/redrive` did) sends every request of the gateway, the proxied ones included,
 * through the TrieRouter instead.
 */
describe("the gateway's router", () => {
  it('holds every route in the RegExpRouter', async () => {
    const router = new RegExpRouter<string>();
    const unsupported: string[] = [];
    for (const route of gateway.routes) {
      try {
        router.add(route.method, route.path, route.path);
      } catch (error) {
        unsupported.push(`${route.method} ${route.path}: ${String(error)}`);
      }
    }
    expect(() => router.match('GET', '/api/catalog/products')).not.toThrow();
    expect(unsupported).toEqual([]);
    // And the app itself picked it.
    await callWorker(gateway, '/health');
    expect((gateway.router as unknown as { activeRouter: { name: string } }).activeRouter.name).toBe('RegExpRouter');
  });

  it('still answers POST /_ops/dlq/redrive as its own route, and no other POST /_ops/dlq/<id>', async () => {
    const admin = { authorization: 'Bearer test-admin-token', 'content-type': 'application/json' };
    // An unknown field is refused before QStash is asked (the redrive-all route's own validation).
    const refused = await callWorker(gateway, '/_ops/dlq/redrive', { method: 'POST', headers: admin, body: JSON.stringify({ nope: 1 }) });
    expect(refused.status).toBe(400);
    const other = await callWorker(gateway, '/_ops/dlq/msg_123', { method: 'POST', headers: admin, body: '{}' });
    expect(other.status).toBe(404);
    expect(other.headers.get('content-type')).toContain('application/problem+json');
  });
});
