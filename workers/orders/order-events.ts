import { cloudEvent } from '../../shared/events/cloud-event';
import type { OutboxDestination } from '../../shared/outbox/outbox-message';
import type { PlacedOrder } from './placed-order';

/** Order events go to one QStash topic (URL group); topology.json lists who receives them. */
export const ORDER_EVENTS: OutboxDestination = { kind: 'topic', topic: 'order-events' };

export type OrderEventType = 'order.placed' | 'order.completed' | 'order.cancelled';

/**
 * An order event. Its id is derived from the order and the type, so writing it twice (a step
 * retried after its batch committed) is one outbox row, not two events.
 */
export function orderEvent(type: OrderEventType, order: PlacedOrder, extra: { reason?: string; time?: Date } = {}) {
  return cloudEvent({
    id: `evt_${order.orderId}_${type.slice('order.'.length)}`,
    type,
    source: 'stratus/orders',
    subject: order.orderId,
    time: extra.time,
    traceparent: order.traceparent,
    data: {
      orderId: order.orderId,
      userId: order.userId,
      items: order.items,
      totalCents: order.totalCents,
      currency: order.currency,
      placedAt: order.placedAt,
      ...(extra.reason ? { reason: extra.reason } : {}),
    },
  });
}
