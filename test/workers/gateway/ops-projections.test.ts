import { env } from 'cloudflare:workers';
import { createExecutionContext } from 'cloudflare:test';
import { describe, expect, it } from 'vitest';
import { publicPath } from '../../../shared/http/public-path';
import { notFound } from '../../../shared/http/problem';
import { createServiceApp } from '../../../shared/middleware/service-app';
import gateway from '../../../workers/gateway/index';
import { callWorker, ownAddress, testEnv } from '../../support/call-worker';

const admin = { authorization: 'Bearer test-admin-token' };

/**
 * A stand-in for the ledger's `POST /ledger/projections/:name/rebuild`, behind the real service
 * token check: it answers what `answer` says, and remembers who called what.
 */
function ledgerStub(answer: (name: string) => Response | Promise<Response>) {
  const calls: { method: string; path: string; scope?: string; requestId: string | null }[] = [];
  const app = createServiceApp({ service: 'ledger', verifyServiceToken: true });
  app.post('/ledger/projections/:name/rebuild', async (c) => {
    calls.push({ method: c.req.method, path: c.req.path, scope: c.get('caller')?.scope, requestId: c.req.header('x-request-id') ?? null });
    if (c.get('caller')?.scope !== 'ops') return c.json({ error: 'ops only' }, 403);
    const name = c.req.param('name');
    if (name === 'missing') throw notFound(`No projection ${name} (at ${publicPath(c)}).`);
    if (name === 'long') return Response.json({ status: 'running' }, { status: 202, headers: { location: publicPath(c, `/ledger/projections/${name}`), 'retry-after': '1' } });
    return answer(name);
  });
  app.get('/ledger/projections/:name', (c) => {
    calls.push({ method: c.req.method, path: c.req.path, scope: c.get('caller')?.scope, requestId: c.req.header('x-request-id') ?? null });
    if (c.get('caller')?.scope !== 'ops') return c.json({ error: 'ops only' }, 403);
    if (c.req.param('name') === 'missing') throw notFound('No projection missing.');
    return c.json({ name: c.req.param('name'), position: 7, head: 9, rebuild: null });
  });
  const LEDGER = { fetch: (request: Request) => app.fetch(request, env, createExecutionContext()) } as unknown as Fetcher;
  return { calls, env: testEnv({ LEDGER }) };
}

const rebuild = (name: string, headers: Record<string, string> = admin, gw?: Cloudflare.Env) =>
  callWorker(gateway, `/_ops/projections/${name}/rebuild`, { method: 'POST', headers: { ...headers, 'x-request-id': 'ops-rebuild-1' } }, gw ?? {});

describe('POST /_ops/projections/:name/rebuild', () => {
  it('forwards to the ledger with the ops-scope service token and passes its status and JSON body through', async () => {
    const ledger = ledgerStub((name) => Response.json({ projection: name, rebuilt: true, events: 42 }));
    const response = await rebuild('balances', admin, ledger.env);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    expect(response.headers.get('cache-control')).toBe('no-store');
    expect(await response.json()).toEqual({ projection: 'balances', rebuilt: true, events: 42 });
    expect(ledger.calls).toEqual([{ method: 'POST', path: '/ledger/projections/balances/rebuild', scope: 'ops', requestId: 'ops-rebuild-1' }]);
  });

  it('keeps the ledger\'s 404 (an unknown projection) a 404, its problem naming the operator\'s path', async () => {
    const ledger = ledgerStub(() => Response.json({}));
    const response = await rebuild('missing', admin, ledger.env);
    expect(response.status).toBe(404);
    expect(response.headers.get('content-type')).toBe('application/problem+json');
    const problem = (await response.json()) as { status: number; detail: string; instance: string; requestId: string };
    expect(problem).toMatchObject({ status: 404, instance: '/_ops/projections/missing/rebuild', requestId: 'ops-rebuild-1' });
    expect(problem.detail).toContain('/_ops/projections/missing/rebuild');
  });

  it('passes other answers through as they are: 202 accepted, 409 already running, no body', async () => {
    const ledger = ledgerStub((name) =>
      name === 'top' ? Response.json({ status: 'rebuilding' }, { status: 202 }) : name === 'busy' ? Response.json({ detail: 'running' }, { status: 409 }) : new Response(null, { status: 204 }),
    );
    const accepted = await rebuild('top', admin, ledger.env);
    expect([accepted.status, await accepted.json()]).toEqual([202, { status: 'rebuilding' }]);
    const busy = await rebuild('busy', admin, ledger.env);
    expect([busy.status, await busy.json()]).toEqual([409, { detail: 'running' }]);
    const empty = await rebuild('transactions', admin, ledger.env);
    expect([empty.status, await empty.text()]).toEqual([204, '']);
  });

  it('is a 502 when the ledger cannot be reached, answers no JSON, or refuses the gateway\'s own token', async () => {
    const down = testEnv({ LEDGER: { fetch: async () => { throw new Error('connection refused'); } } as unknown as Fetcher });
    const unreachable = await rebuild('balances', admin, down);
    expect(unreachable.status).toBe(502);
    expect(((await unreachable.json()) as { detail: string }).detail).toContain('ledger');
    const html = ledgerStub(() => new Response('<h1>oops</h1>', { status: 200, headers: { 'content-type': 'text/html' } }));
    expect((await rebuild('balances', admin, html.env)).status).toBe(502);
    const refusing = testEnv({ LEDGER: { fetch: async () => Response.json({ title: 'Unauthorized' }, { status: 401 }) } as unknown as Fetcher });
    expect((await rebuild('balances', admin, refusing)).status).toBe(502);
  });

  it('is 401 without the admin token, and the ledger is never called', async () => {
    const ledger = ledgerStub(() => Response.json({}));
    expect((await rebuild('balances', {}, ledger.env)).status).toBe(401);
    expect((await rebuild('balances', { authorization: 'Bearer wrong', 'cf-connecting-ip': ownAddress() }, ledger.env)).status).toBe(401);
    expect(ledger.calls).toEqual([]);
  });

  it('a 202 (the rebuild goes on) keeps its Location, as the operator\'s path, and its Retry-After', async () => {
    const ledger = ledgerStub(() => Response.json({}));
    const response = await rebuild('long', admin, ledger.env);
    expect(response.status).toBe(202);
    expect(response.headers.get('location')).toBe('/_ops/projections/long');
    expect(response.headers.get('retry-after')).toBe('1');
  });
});

describe('GET /_ops/projections/:name', () => {
  const progress = (name: string, headers: Record<string, string> = admin, gw?: Cloudflare.Env) => callWorker(gateway, `/_ops/projections/${name}`, { headers }, gw ?? {});

  it('answers the ledger\'s view of the projection, asked with the ops scope; its 404 stays a 404', async () => {
    const ledger = ledgerStub(() => Response.json({}));
    const response = await progress('balances', admin, ledger.env);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ name: 'balances', position: 7, head: 9, rebuild: null });
    expect(ledger.calls).toEqual([{ method: 'GET', path: '/ledger/projections/balances', scope: 'ops', requestId: expect.any(String) }]);
    expect((await progress('missing', admin, ledger.env)).status).toBe(404);
    expect((await progress('balances', {}, ledger.env)).status).toBe(401);
  });
});
