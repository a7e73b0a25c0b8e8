import { describe, expect, it } from 'vitest';
import { callWorker } from '../../support/call-worker';
import { captureSpansEachTest, clientSpansOf } from '../../support/span-capture';
import { alice, orders } from './support';

// The orders service's request routes read D1 as spans of their request (traced-d1.ts), as its
// saga steps and deliveries already did; exported when OTEL_EXPORTER_OTLP_ENDPOINT is set.
const capture = captureSpansEachTest();

describe('the orders service traces its request reads', () => {
  it("the caller's orders: one SELECT of the read model under GET /orders", async () => {
    expect((await callWorker(orders, '/orders?limit=3', { headers: alice }, capture.bindings)).status).toBe(200);
    const d1 = clientSpansOf(capture.spans, 'orders', 'GET /orders');
    expect(d1.map((s) => s.name)).toEqual(['D1 SELECT']);
    expect(String(d1[0]!.attributes['db.query.text'])).toContain('"order_summaries"');
  });

  it('one order (here none): its SELECT under GET /orders/:id, a 404 traced like any answer', async () => {
    expect((await callWorker(orders, `/orders/ord_${'0'.repeat(32)}`, { headers: alice }, capture.bindings)).status).toBe(404);
    expect(clientSpansOf(capture.spans, 'orders', 'GET /orders/:id').map((s) => s.name)).toEqual(['D1 SELECT']);
  });
});
