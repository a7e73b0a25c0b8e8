import { createRoute } from '@hono/zod-openapi';
import { z } from 'zod';
import { jsonResponse, problemResponse, validationProblem } from '../../shared/openapi/describe';
import { describesExactly, type SameShape } from '../../shared/openapi/same-type';
import { listQuery, type NotificationItem } from './notification-schemas';

/**
 * The notifications service's public route as OpenAPI, at its own path (`/notifications`): the
 * gateway maps it to `/api/notifications` and adds its edge policy (workers/gateway/openapi).
 */

const notificationItem = z.strictObject({
  id: z.string(),
  kind: z.string().describe('The event it came from: `order.completed`, `payment.refunded`, ...'),
  orderId: z.string(),
  createdAt: z.string(),
  mails: z.array(z.strictObject({ priority: z.enum(['transactional', 'bulk']), template: z.string(), status: z.enum(['held', 'queued', 'sent', 'undeliverable']) })),
});

export const notificationsApi = [
  createRoute({
    method: 'get',
    path: '/notifications',
    summary: "The caller's own notifications",
    description:
      'Newest first, `limit` (1 to 100, default 20) at a time; `nextCursor` asks for the next page and is null on the last. With `orderId`: that order\'s notifications, oldest first, if its events name the caller (an admin: any order\'s), else an empty list.',
    request: { query: listQuery },
    responses: {
      200: jsonResponse('A page of notifications.', z.strictObject({ items: z.array(notificationItem), nextCursor: z.string().nullable().optional() }), {
        items: [
          {
            id: 'ntf_3f1c9a2b7d4e4f6a8b0c1d2e3f4a5b6c',
            kind: 'order.completed',
            orderId: 'ord_0123456789abcdef0123456789abcdef',
            createdAt: '2026-11-23T12:00:01.000Z',
            mails: [{ priority: 'transactional', template: 'order-receipt', status: 'sent' }],
          },
        ],
        nextCursor: null,
      }),
      400: problemResponse(400, 'A limit out of bounds, or a cursor this API did not issue.', validationProblem([{ path: 'cursor', message: 'Invalid cursor' }])),
    },
  }),
];

// The answer's schema is exactly the handler's type (shared/openapi/same-type.ts).
describesExactly<SameShape<z.output<typeof notificationItem>, NotificationItem>>();
