import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { toFieldErrors, validate } from '../../../shared/validation/validate';
import { harness, jsonRequest, problemOf } from '../support/service-app-harness';

const order = z.object({
  name: z.string().min(1),
  items: z.array(z.object({ quantity: z.number().int().min(1) })).min(1),
});

function app() {
  const h = harness();
  h.app.post('/orders', validate('json', order), (c) => c.json({ accepted: c.req.valid('json') }, 201));
  h.app.get('/items/:id', validate('param', z.object({ id: z.string().regex(/^item_\d+$/) })), (c) => c.json({ id: c.req.valid('param').id }));
  h.app.get('/search', validate('query', z.object({ limit: z.coerce.number().int().max(100) })), (c) => c.json(c.req.valid('query')));
  return h;
}

describe('toFieldErrors', () => {
  it('dot-joins issue paths and names the root when there is no path', () => {
    expect(
      toFieldErrors({
        issues: [
          { path: ['items', 0, 'quantity'], message: 'Too small' },
          { path: [], message: 'Expected object' },
        ],
      }),
    ).toEqual([
      { path: 'items.0.quantity', message: 'Too small' },
      { path: '(root)', message: 'Expected object' },
    ]);
  });
});

describe('validate', () => {
  it('passes valid input to the handler', async () => {
    const body = { name: 'order', items: [{ quantity: 2 }] };
    const response = await app().app.request('/orders', jsonRequest(JSON.stringify(body)));
    expect(response.status).toBe(201);
    expect(await response.json()).toEqual({ accepted: body });
  });

  it('answers malformed JSON with a 400 problem+json', async () => {
    const response = await app().app.request('/orders', jsonRequest('{"name": "order", '));
    expect(response.status).toBe(400);
    const problem = await problemOf(response);
    expect(problem).toMatchObject({ status: 400, title: 'Bad Request', type: '/problems/bad-request', instance: '/orders' });
    expect(problem.detail).toMatch(/malformed json/i);
    expect(problem.requestId).toBe(response.headers.get('x-request-id'));
  });

  it('answers invalid input with a 400 validation problem listing every failed field by path', async () => {
    const response = await app().app.request('/orders', jsonRequest(JSON.stringify({ name: '', items: [{ quantity: 1 }, { quantity: 0.5 }] })));
    expect(response.status).toBe(400);
    const problem = await problemOf(response);
    expect(problem).toMatchObject({ type: '/problems/validation-failed', detail: 'The request is not valid; see errors.' });
    expect(problem.errors?.map((e) => e.path).sort()).toEqual(['items.1.quantity', 'name']);
    expect(problem.errors?.every((e) => e.message.length > 0)).toBe(true);
  });

  it('reports a body of the wrong shape at (root)', async () => {
    const problem = await problemOf(await app().app.request('/orders', jsonRequest('[1, 2]')));
    expect(problem.errors).toEqual([{ path: '(root)', message: expect.any(String) }]);
  });

  it('validates path parameters', async () => {
    const ok = await app().app.request('/items/item_42');
    expect(await ok.json()).toEqual({ id: 'item_42' });
    const problem = await problemOf(await app().app.request('/items/42'));
    expect(problem).toMatchObject({ status: 400, instance: '/items/42', errors: [{ path: 'id' }] });
  });

  it('validates query parameters', async () => {
    expect(await (await app().app.request('/search?limit=10')).json()).toEqual({ limit: 10 });
    const problem = await problemOf(await app().app.request('/search?limit=1000'));
    expect(problem.errors).toEqual([{ path: 'limit', message: expect.any(String) }]);
  });
});
