import { env } from 'cloudflare:workers';
import topology from '../../../shared/events/topology.json';
import { SpanKind } from '../../../shared/observability/span';
import { describe, expect, it } from 'vitest';
import { callWorker } from '../../support/call-worker';
import { qstashDelivery } from '../../support/qstash-signature';
import { captureSpansEachTest, clientSpansOf } from '../../support/span-capture';
import { asAdmin, asUser, hookUrl, notifications, orderCompleted } from './support';

// The notifications' D1 round trips are CLIENT spans: a read's of its request, a delivery's of
// its `deliver` span (traced-d1.ts), exported when OTEL_EXPORTER_OTLP_ENDPOINT is set.
const capture = captureSpansEachTest();

describe('the notifications service traces its D1 work', () => {
  it("an admin's stats: both counts read in one batch under GET /notifications/stats", async () => {
    expect((await callWorker(notifications, '/notifications/stats', { headers: asAdmin }, capture.bindings)).status).toBe(200);
    const d1 = clientSpansOf(capture.spans, 'notifications', 'GET /notifications/stats');
    expect(d1.map((s) => [s.name, s.attributes['db.operation.batch.size']])).toEqual([['D1 batch', 2]]);
  });

  it("a user's notifications: the page read under GET /notifications", async () => {
    expect((await callWorker(notifications, '/notifications?limit=5', { headers: asUser('u-spans') }, capture.bindings)).status).toBe(200);
    expect(clientSpansOf(capture.spans, 'notifications', 'GET /notifications').map((s) => s.name)).toEqual(['D1 SELECT']);
  });

  it("a delivery: its inbox row and effects committed in one batch under the delivery's span", async () => {
    const event = orderCompleted(`ord_spans_${crypto.randomUUID()}`);
    const body = JSON.stringify(event);
    const response = await callWorker(notifications, topology.consumers.notifications, await qstashDelivery(env.QSTASH_CURRENT_SIGNING_KEY!, hookUrl('notifications'), body), capture.bindings);
    expect(response.status).toBe(200);
    const deliver = capture.spans.find((s) => s.kind === SpanKind.CONSUMER && s.name === 'deliver order.completed');
    expect(deliver).toBeDefined();
    const d1 = capture.spans.filter((s) => s.parentSpanId === deliver!.spanId);
    expect(d1.map((s) => s.name)).toContain('D1 batch');
    expect(d1.every((s) => s.kind === SpanKind.CLIENT && s.name.startsWith('D1 '))).toBe(true);
  });
});
