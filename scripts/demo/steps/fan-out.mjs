// [7] The two orders' events, fanned out: QStash delivered each order event to every consumer
// subscribed to the order-events topic (shared/events/topology.json), through the gateway's
// /hooks routes, which /metrics counts; the orders read model shows both orders settled, and no
// delivery was dead-lettered.
import { expectThat, pollUntil } from '../http-client.mjs';
import topology from '../../../shared/events/topology.json' with { type: 'json' };

const CONSUMERS = topology.topics['order-events'];
const DELIVERY_TIMEOUT_MS = 20_000;

/** 2xx deliveries per consumer so far, from the gateway's `http_requests_total` of its /hooks routes. */
export async function deliveredPerConsumer(call) {
  const metrics = await call('GET', '/metrics');
  const counts = Object.fromEntries(CONSUMERS.map((consumer) => [consumer, 0]));
  if (metrics.status !== 200) return counts;
  for (const line of String(metrics.body).split('\n')) {
    const match = /^http_requests_total\{.*service="hooks-([^"]+)".*status="2\d\d".*\} (\d+)/.exec(line);
    if (match && match[1] in counts) counts[match[1]] += Number(match[2]);
  }
  return counts;
}

// /_ops/dlq pages (50 a page); more pages than this and the demo's suite is not the one to count on.
const MAX_DLQ_PAGES = 40;

/**
 * The ids of every dead-lettered delivery now (`GET /_ops/dlq`, all its pages), or null when the
 * queue cannot be read. Ids, not a count: a count of one page stops at 50, and one letter dropped
 * while another arrives would leave a count unchanged.
 */
export async function deadLetterIds(call) {
  const ids = new Set();
  let cursor = null;
  for (let page = 0; page < MAX_DLQ_PAGES; page++) {
    const dlq = await call('GET', `/_ops/dlq${cursor ? `?cursor=${encodeURIComponent(cursor)}` : ''}`, { admin: true });
    if (dlq.status !== 200) return null;
    for (const item of dlq.body?.items ?? []) ids.add(item.dlqId);
    cursor = dlq.body?.cursor ?? null;
    if (!cursor) return ids;
  }
  return ids;
}

export const fanOut = {
  title: 'Follow the orders’ events to every consumer',
  pattern: 'publish/subscribe through QStash (transactional outbox, signed deliveries, retries, DLQ); CQRS read model',
  async run({ call, show, note, state }) {
    expectThat(state.orders.length === 2, 'needs the two orders of the steps before');
    const before = state.deliveriesBefore;
    let seen = before;
    await pollUntil(
      `deliveries of the order events to ${CONSUMERS.join(', ')}`,
      async () => (seen = await deliveredPerConsumer(call)),
      (counts) => CONSUMERS.every((consumer) => counts[consumer] - before[consumer] >= 2),
      { timeoutMs: DELIVERY_TIMEOUT_MS, intervalMs: 500 },
    );
    note(`GET /metrics  http_requests_total of POST /hooks/<consumer>, 2xx, since the orders were placed:`);
    for (const consumer of CONSUMERS) note(`   ${consumer.padEnd(16)} +${seen[consumer] - before[consumer]}`);
    const summaries = await call('GET', '/api/orders', { token: state.token });
    const mine = (summaries.body?.items ?? []).filter((item) => state.orders.includes(item.orderId));
    show('GET', '/api/orders', summaries, [], mine.map(({ orderId, status }) => ({ orderId, status })));
    expectThat(
      mine.length === 2 && mine.every((item) => item.status === 'COMPLETED' || item.status === 'CANCELLED'),
      `the orders read model (kept by the order-summaries consumer) shows ${JSON.stringify(mine.map((item) => item.status))}, not both orders settled`,
    );
    const dlq = await call('GET', '/_ops/dlq', { admin: true });
    expectThat(dlq.status === 200, `GET /_ops/dlq answered ${dlq.status}, not 200 (is the operator token right? set ADMIN_TOKEN)`);
    const now = await deadLetterIds(call);
    expectThat(now !== null, 'GET /_ops/dlq could not be read page by page');
    const added = [...now].filter((id) => !state.deadLettersBefore.has(id));
    show('GET', '/_ops/dlq', dlq, [], { items: `${now.size} dead letter(s), ${added.length} new since the demo started` });
    expectThat(added.length === 0, `${added.length} delivery(ies) dead-lettered during the demo: ${added.slice(0, 5).join(', ')}`);
    return `each order event reached ${CONSUMERS.join(', ')}; the read model shows both orders; nothing dead-lettered`;
  },
};
