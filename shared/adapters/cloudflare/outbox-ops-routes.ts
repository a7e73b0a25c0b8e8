import { Hono } from 'hono';
import { z } from 'zod';
import { requireOps } from '../../http/identity';
import type { AppEnv } from '../../middleware/app-env';
import { validate } from '../../validation/validate';
import { outboxRelay, type OutboxBindings } from './outbox-relay';

/**
 * A service's outbox for operators (the gateway's `GET /_ops/outbox` and
 * `POST /_ops/outbox/:service/retry` call these with the ops scope): its counts and the rows
 * parked as dead, and the retry that un-parks them. Mounted at `/_outbox` by every service with
 * an OutboxRelay.
 */
export const outboxOpsRoutes = new Hono<AppEnv<OutboxBindings>>()
  .use(requireOps('The outbox is for operators.'))
  .get('/', async (c) => {
    const relay = outboxRelay(c.env);
    const [status, dead] = await Promise.all([relay.status(), relay.dead()]);
    return c.json({ ...status, deadRows: dead.map((row) => ({ ...row, createdAt: new Date(row.createdAt).toISOString(), deadAt: new Date(row.deadAt).toISOString() })) });
  })
  .post('/retry', validate('json', z.strictObject({ id: z.string().min(1).max(200).optional() })), async (c) => {
    const { id } = c.req.valid('json');
    return c.json(await outboxRelay(c.env).retryDead(id ?? null));
  });
