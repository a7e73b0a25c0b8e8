import { describe, expect, it } from 'vitest';
import { harness, jsonRequest, problemOf } from '../support/service-app-harness';

function app() {
  const h = harness();
  h.app.post('/items', async (c) => c.json({ received: await c.req.text() }, 201));
  h.app.post('/actions/reindex', (c) => c.body(null, 202));
  return h;
}

const withType = (contentType: string | null, body = '{"a":1}'): RequestInit => {
  const init = jsonRequest(body);
  const headers = new Headers(init.headers);
  if (contentType === null) headers.delete('content-type');
  else headers.set('content-type', contentType);
  return { ...init, headers };
};

describe('requireJson', () => {
  it.each(['application/json', 'application/json; charset=utf-8', 'APPLICATION/JSON', 'application/merge-patch+json', 'application/vnd.api+json;v=1'])(
    'accepts a body sent as %s',
    async (contentType) => {
      const response = await app().app.request('/items', withType(contentType));
      expect(response.status).toBe(201);
      expect(await response.json()).toEqual({ received: '{"a":1}' });
    },
  );

  it.each(['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/jsonp', 'application/json-seq', 'text/json'])(
    'answers 415 problem+json for a body sent as %s',
    async (contentType) => {
      const response = await app().app.request('/items', withType(contentType));
      expect(response.status).toBe(415);
      const problem = await problemOf(response);
      expect(problem).toMatchObject({ status: 415, type: '/problems/unsupported-media-type', title: 'Unsupported Media Type', instance: '/items' });
      expect(problem.detail).toContain('application/json');
    },
  );

  it('answers 415 for a body with no content type at all', async () => {
    expect((await app().app.request('/items', withType(null))).status).toBe(415);
  });

  it('answers 415 for a chunked body that is not JSON', async () => {
    const response = await app().app.request('/items', {
      method: 'POST',
      headers: { 'content-type': 'text/plain', 'transfer-encoding': 'chunked' },
      body: 'hello',
    });
    expect(response.status).toBe(415);
  });

  it('lets a bodiless POST through whatever its content type', async () => {
    expect((await app().app.request('/actions/reindex', { method: 'POST' })).status).toBe(202);
    expect((await app().app.request('/actions/reindex', { method: 'POST', headers: { 'content-type': 'text/plain', 'content-length': '0' } })).status).toBe(202);
  });

  it('refuses before the handler runs', async () => {
    const h = harness();
    let ran = false;
    h.app.post('/items', (c) => {
      ran = true;
      return c.text('ok');
    });
    await h.app.request('/items', withType('text/plain'));
    expect(ran).toBe(false);
  });
});
