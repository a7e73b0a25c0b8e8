import { z } from 'zod';
import type { MailPriority } from './schema';

/**
 * What an event makes this service do: one notification and the mails it sends. Pure: the
 * consumer's shell (notification-hook.ts) turns a plan into rows and outbox messages.
 */
export interface NotificationPlan {
  kind: string;
  orderId: string;
  userId: string | null;
  mails: MailToSend[];
}

export interface MailToSend {
  priority: MailPriority;
  template: string;
}

// Only the fields this service reads; anything else in an event's data is left alone, so a
// producer may add fields without breaking this consumer.
const orderData = z.object({ orderId: z.string().min(1), userId: z.string().min(1) });
// A payment event names the user as `customerId` (the charge's customer); older events, and an
// operator's charge that named no customer, do not: their mails are held until an order event
// names the user (mail-release.ts).
const paymentData = z
  .object({ orderId: z.string().min(1), paymentId: z.string().min(1), customerId: z.string().min(1).optional() })
  .transform(({ orderId, customerId }) => ({ orderId, userId: customerId }));

interface Rule {
  data: z.ZodType<{ orderId: string; userId?: string }, unknown>;
  mails: MailToSend[];
}

const transactional = (template: string): MailToSend => ({ priority: 'transactional', template });
const bulk = (template: string): MailToSend => ({ priority: 'bulk', template });

/** The events this service acts on, and what each sends. Data, so adding one is one entry. */
export const NOTIFICATION_RULES: Readonly<Record<string, Rule>> = {
  'order.completed': { data: orderData, mails: [transactional('order-receipt'), bulk('review-request')] },
  'order.cancelled': { data: orderData, mails: [transactional('order-cancelled')] },
  'payment.charged': { data: paymentData, mails: [transactional('payment-receipt')] },
  'payment.declined': { data: paymentData, mails: [transactional('payment-declined')] },
  'payment.refunded': { data: paymentData, mails: [transactional('payment-refunded')] },
};

export type PlanResult =
  | { action: 'notify'; plan: NotificationPlan }
  /** A type this service does not act on (a topic carries more than we need): acknowledge it. */
  | { action: 'ignore' }
  /** A type we act on whose data is unusable: retrying cannot fix it, so it is refused. */
  | { action: 'reject'; reason: string };

export function planNotification(event: { type: string; data?: unknown }): PlanResult {
  const rule = NOTIFICATION_RULES[event.type];
  if (!rule) return { action: 'ignore' };
  const parsed = rule.data.safeParse(event.data);
  if (!parsed.success) {
    const reason = parsed.error.issues.map((issue) => `${issue.path.join('.') || '(data)'}: ${issue.message}`).join('; ');
    return { action: 'reject', reason: `${event.type} data is not usable: ${reason}` };
  }
  return {
    action: 'notify',
    plan: { kind: event.type, orderId: parsed.data.orderId, userId: parsed.data.userId ?? null, mails: rule.mails },
  };
}
