import { cloudEvent, type CloudEvent } from '../../shared/events/cloud-event';
import type { OutboxDestination } from '../../shared/outbox/outbox-message';
import type { NewPaymentRow } from './schema';

/** Payment events go to one QStash topic (URL group); shared/events/topology.json lists who receives them. */
export const PAYMENT_EVENTS: OutboxDestination = { kind: 'topic', topic: 'payment-events' };

const SOURCE = 'stratus/payments';

export interface PaymentChargedData {
  paymentId: string;
  orderId: string;
  amountCents: number;
  currency: string;
  /**
   * The customer the payment is for (the order's user), when the charge named one (the order
   * saga always does): consumers address what they send with it, since a payment event can
   * arrive before any order event that would name the user.
   */
  customerId?: string;
}
export interface PaymentDeclinedData extends PaymentChargedData {
  declineCode: string;
}
export interface PaymentRefundedData extends PaymentChargedData {
  chargeId: string;
}

/** The row's fields an event needs: all known before the row is written (its id is ours). */
type EventSource = Pick<NewPaymentRow, 'id' | 'kind' | 'orderId' | 'chargeId' | 'amountCents' | 'currency' | 'status' | 'declineCode' | 'customerId'>;

/**
 * The event that reports a payment row: `payment.charged`, `payment.declined` or
 * `payment.refunded`, subject the payment id. Its id is derived from the payment's, so one row
 * is one event. Written in the same D1 batch as the row (payment-repository.ts), so the event
 * exists if and only if the payment does.
 */
export function paymentEvent(row: EventSource, traceparent?: string | null): CloudEvent {
  const base: PaymentChargedData = {
    paymentId: row.id,
    orderId: row.orderId,
    amountCents: row.amountCents,
    currency: row.currency,
    ...(row.customerId ? { customerId: row.customerId } : {}),
  };
  const envelope = { id: `evt_${row.id}`, source: SOURCE, subject: row.id, traceparent };
  if (row.kind === 'refund') {
    if (!row.chargeId) throw new Error(`refund ${row.id} has no charge`);
    return cloudEvent<PaymentRefundedData>({ ...envelope, type: 'payment.refunded', data: { ...base, chargeId: row.chargeId } });
  }
  if (row.status === 'succeeded') return cloudEvent<PaymentChargedData>({ ...envelope, type: 'payment.charged', data: base });
  // Anything but success took no money: declined (the processor's code, else the status).
  return cloudEvent<PaymentDeclinedData>({ ...envelope, type: 'payment.declined', data: { ...base, declineCode: row.declineCode ?? row.status } });
}
