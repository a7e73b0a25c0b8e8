import { tracedD1 } from '../../shared/adapters/cloudflare/traced-d1';
import type { Span } from '../../shared/observability/span';
import { telemetryFor } from '../../shared/observability/telemetry';
import type { SagaState, StepOutcome } from '../../shared/saga/saga';
import type { OrdersBindings } from './env';
import { sagaConfig } from './order-saga-config';
import { OrderRecords } from './order-records';
import { callParticipant, type ParticipantCall } from './participant';
import type { PlacedOrder } from './placed-order';

type Step = 'reserve' | 'charge' | 'confirm' | 'refund' | 'release' | 'cancel';

/**
 * What each step does. Every remote effect carries `<orderId>:<step>` as its idempotency key, so
 * a step run again after a crash is answered with its first result, never applied twice
 * (docs/architecture.md, decision 3). The reservation is named by the order id, so `release` and `commit`
 * find it whichever attempt made it, and a release that comes before a late reserve blocks it.
 */
export async function performStep(env: OrdersBindings, order: PlacedOrder, saga: SagaState, step: string, span?: Span): Promise<StepOutcome> {
  // The participants continue the trace from the step's span (order-saga.ts), and its own D1
  // batches are spans of it; without one, from the request that placed the order.
  const db = span ? tracedD1(env.DB, telemetryFor('orders', env).tracer, span) : env.DB;
  const call = (service: ParticipantCall['service'], path: string, body?: unknown) =>
    callParticipant(env, {
      service,
      path,
      body,
      idempotencyKey: `${order.orderId}:${step}`,
      requestId: order.requestId,
      traceparent: order.traceparent,
      span,
      timeoutMs: sagaConfig(env).SAGA_CALL_TIMEOUT_MS,
    });
  const reservation = `/inventory/reservations/${encodeURIComponent(order.orderId)}`;

  switch (step as Step) {
    case 'reserve':
      return (
        await call('catalog', '/inventory/reservations', {
          reservationId: order.orderId,
          items: order.items.map(({ productId, quantity }) => ({ productId, quantity })),
        })
      ).outcome;
    case 'charge': {
      const answer = await call('payments', '/payments/charges', {
        orderId: order.orderId,
        amountCents: order.totalCents,
        currency: order.currency,
        // The token; a saga stored before tokens carries the number instead; neither: payments
        // charges its approved test card.
        ...(order.paymentMethod ? { paymentMethod: order.paymentMethod.id } : order.card ? { card: order.card } : {}),
        customerId: order.userId,
      });
      // The processor's "no" is a recorded charge with status declined: final, not retryable.
      const status = (answer.body as { status?: string } | null)?.status;
      if (answer.outcome.kind === 'ok' && status !== 'succeeded') {
        const code = (answer.body as { declineCode?: string } | null)?.declineCode;
        return { kind: 'business', error: `payment ${status ?? 'not approved'}${code ? `: ${code}` : ''}` };
      }
      return answer.outcome;
    }
    case 'confirm': {
      const commit = await call('catalog', `${reservation}/commit`);
      if (commit.outcome.kind !== 'ok') return commit.outcome;
      return local(() => new OrderRecords(db).settle(order, saga, 'COMPLETED'));
    }
    case 'refund':
      return (await call('payments', '/payments/refunds', { orderId: order.orderId, chargeIdempotencyKey: `${order.orderId}:charge` })).outcome;
    case 'release':
      return (await call('catalog', `${reservation}/release`)).outcome;
    case 'cancel':
      return local(() => new OrderRecords(db).settle(order, saga, 'CANCELLED'));
    default:
      return { kind: 'business', error: `unknown step ${step}` };
  }
}

/** A write to our own database: a failure is transient (D1 trouble), retried like any other. */
async function local(write: () => Promise<void>): Promise<StepOutcome> {
  try {
    await write();
    return { kind: 'ok' };
  } catch (error) {
    return { kind: 'transient', error: error instanceof Error ? error.message : String(error) };
  }
}
