// [4] and [5] Orders: one that completes and one whose card is declined, each a saga across
// catalog (stock), payments (the card) and orders, run behind a 202; the declined one is undone
// step by step (compensation). Each is read back until it ends, within a deadline.
import { expectThat, pollUntil, retryAfterMs } from '../http-client.mjs';

const DECLINED_CARD = '4000000000000002';
const SETTLE_TIMEOUT_MS = 20_000;
const TERMINAL = new Set(['COMPLETED', 'CANCELLED']);

/** Places an order with a fresh Idempotency-Key; answers its id and how to send it again. */
async function place({ call, show, state }, items, paymentMethod) {
  const key = `demo-${crypto.randomUUID()}`;
  const body = paymentMethod ? { items, paymentMethod } : { items };
  const send = () => call('POST', '/api/orders', { token: state.token, body, headers: { 'idempotency-key': key } });
  const placed = await send();
  show('POST', `/api/orders  ${JSON.stringify(body)}  (Idempotency-Key: ${key.slice(0, 13)}…)`, placed);
  expectThat(placed.status === 202 && typeof placed.body?.orderId === 'string', `placing the order answered ${placed.status}, not 202 with an orderId`);
  return { orderId: placed.body.orderId, again: async () => ({ answer: await send(), label: `/api/orders  (the same body, the same Idempotency-Key)` }) };
}

/** Reads the order until its saga ends (a 429 is waited out as it asks). */
async function settle({ call, show, note, state }, orderId) {
  let reads = 0;
  const answer = await pollUntil(
    `order ${orderId} COMPLETED or CANCELLED`,
    async () => {
      reads++;
      const read = await call('GET', `/api/orders/${orderId}`, { token: state.token });
      return read.status === 429 ? { ...read, retryAfterMs: retryAfterMs(read) } : read;
    },
    (read) => read.status === 200 && TERMINAL.has(read.body?.status),
    { timeoutMs: SETTLE_TIMEOUT_MS, intervalMs: 300 },
  );
  note(`… read ${reads} time(s) until the saga ended`);
  show('GET', `/api/orders/${orderId}`, answer, [], { status: answer.body.status, totalCents: answer.body.totalCents, reason: answer.body.reason });
  for (const step of answer.body.saga?.steps ?? []) {
    note(`   ${step.name.padEnd(8)} ${step.status.padEnd(9)} attempts ${step.attempts}${step.error ? `  (${step.error})` : ''}`);
  }
  return answer.body;
}

const stepStatuses = (order) => Object.fromEntries((order.saga?.steps ?? []).map((step) => [step.name, step.status]));

export const completedOrder = {
  title: 'Place an order that completes',
  pattern: 'saga (orchestrated by a Durable Object) across catalog, payments and orders; idempotent writes',
  async run(context) {
    const { orderId, again } = await place(context, [{ productId: 'prod_02', quantity: 1 }]);
    // A client that never saw the answer sends again: the same order, never a second one.
    const { answer: replay, label } = await again();
    context.show('POST', label, replay, ['idempotent-replayed']);
    expectThat(
      (replay.status === 200 || replay.status === 202) && replay.body?.orderId === orderId,
      `sending the order again with its key answered ${replay.status} ${JSON.stringify(replay.body).slice(0, 80)}, not the same order ${orderId}`,
    );
    const order = await settle(context, orderId);
    expectThat(order.status === 'COMPLETED', `order ${orderId} ended ${order.status}${order.reason ? ` (${order.reason})` : ''}, not COMPLETED`);
    const steps = stepStatuses(order);
    expectThat(['reserve', 'charge', 'confirm'].every((name) => steps[name] === 'succeeded'), `its saga steps were ${JSON.stringify(steps)}, not reserve, charge and confirm succeeded`);
    context.state.orders.push(orderId);
    return `202 at once (sent twice, one order), then COMPLETED: stock reserved, card charged, order confirmed, each step timed`;
  },
};

export const compensatedOrder = {
  title: 'Place an order whose card is declined',
  pattern: 'saga compensation: what was done is undone in reverse (the reservation released), never a half-made order',
  async run(context) {
    const { orderId } = await place(context, [{ productId: 'prod_03', quantity: 1 }], { card: DECLINED_CARD });
    const order = await settle(context, orderId);
    expectThat(order.status === 'CANCELLED', `order ${orderId} ended ${order.status}, not CANCELLED`);
    const steps = stepStatuses(order);
    const expected = { reserve: 'succeeded', charge: 'failed', confirm: 'skipped', release: 'succeeded', cancel: 'succeeded' };
    const wrong = Object.entries(expected).filter(([name, status]) => steps[name] !== status);
    expectThat(wrong.length === 0, `its saga steps were ${JSON.stringify(steps)}; expected ${JSON.stringify(expected)}`);
    context.state.orders.push(orderId);
    return `CANCELLED (${order.reason}): reserve succeeded, charge failed, confirm skipped, then release and cancel compensated`;
  },
};
