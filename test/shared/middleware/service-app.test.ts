import { describe, expect, it, vi } from 'vitest';
import { DRAIN_LIMIT_BYTES } from '../../../shared/middleware/body-limit';
import { DEFAULT_BODY_LIMIT_BYTES, addHealthRoutes } from '../../../shared/middleware/service-app';
import { harness, jsonRequest, problemOf } from '../support/service-app-harness';

function echoApp(options: Parameters<typeof harness>[0] = {}) {
  const h = harness(options);
  h.app.post('/echo', async (c) => c.json({ bytes: (await c.req.text()).length }));
  h.app.get('/chatty', (c) => {
    c.get('log').debug('debug detail');
    c.get('log').info('info detail');
    return c.text('ok');
  });
  return h;
}

/** A JSON body of exactly `bytes` bytes: `"xxxx"`. */
const bodyOf = (bytes: number) => `"${'x'.repeat(bytes - 2)}"`;

/**
 * A body streamed in chunks with no content-length, as a chunked upload arrives; `seen` says how
 * much of it was pulled and whether it was cancelled.
 */
function streamedRequest(totalBytes: number, chunkBytes = 1024, seen = { pulled: 0, cancelled: false }): RequestInit {
  const chunk = new TextEncoder().encode('x'.repeat(chunkBytes));
  let sent = 0;
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (sent >= totalBytes) return controller.close();
      const size = Math.min(chunkBytes, totalBytes - sent);
      controller.enqueue(chunk.subarray(0, size));
      sent += size;
      seen.pulled = sent;
    },
    cancel() {
      seen.cancelled = true;
    },
  });
  return { method: 'POST', headers: { 'content-type': 'application/json' }, body, duplex: 'half' } as RequestInit;
}

describe('createServiceApp: body limit', () => {
  it('answers 413 problem+json for a body over BODY_LIMIT_BYTES', async () => {
    const { app } = echoApp();
    const response = await app.request('/echo', jsonRequest(bodyOf(65)), { BODY_LIMIT_BYTES: '64' });
    expect(response.status).toBe(413);
    const problem = await problemOf(response);
    expect(problem).toMatchObject({ status: 413, title: 'Content Too Large', instance: '/echo', detail: 'The request body is larger than 64 bytes.' });
    expect(problem.requestId).toBe(response.headers.get('x-request-id'));
  });

  it('accepts a body of exactly BODY_LIMIT_BYTES', async () => {
    const { app } = echoApp();
    const response = await app.request('/echo', jsonRequest(bodyOf(64)), { BODY_LIMIT_BYTES: '64' });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ bytes: 64 });
  });

  it('answers 413 for a streamed body without a content-length once it passes the limit', async () => {
    const { app } = echoApp();
    const response = await app.request('/echo', streamedRequest(10_000), { BODY_LIMIT_BYTES: '4096' });
    expect((await problemOf(response)).status).toBe(413);
  });

  it('reads an oversized chunked body to its end before the 413: nothing is left unread for the connection (the dev proxy\'s next write got 503)', async () => {
    const { app } = echoApp();
    const seen = { pulled: 0, cancelled: false };
    const response = await app.request('/echo', streamedRequest(1_200_000, 16 * 1024, seen), { BODY_LIMIT_BYTES: String(1024 * 1024) });
    expect(response.status).toBe(413);
    expect(seen).toEqual({ pulled: 1_200_000, cancelled: false });
  });

  it('cancels, rather than reads, the rest of a body past DRAIN_LIMIT_BYTES', async () => {
    const { app } = echoApp();
    const seen = { pulled: 0, cancelled: false };
    const response = await app.request('/echo', streamedRequest(DRAIN_LIMIT_BYTES * 2, 256 * 1024, seen), { BODY_LIMIT_BYTES: '4096' });
    expect(response.status).toBe(413);
    expect(seen.cancelled).toBe(true);
    expect(seen.pulled).toBeLessThan(DRAIN_LIMIT_BYTES * 2);
  });

  it('passes a streamed body under the limit through intact', async () => {
    const { app } = echoApp();
    const response = await app.request('/echo', streamedRequest(3_000), { BODY_LIMIT_BYTES: '4096' });
    expect(await response.json()).toEqual({ bytes: 3_000 });
  });

  it('uses the bodyLimitBytes option when the env sets no usable limit', async () => {
    const { app } = echoApp({ bodyLimitBytes: 32 });
    for (const env of [{}, { BODY_LIMIT_BYTES: 'lots' }, { BODY_LIMIT_BYTES: '0' }, { BODY_LIMIT_BYTES: '-5' }, { BODY_LIMIT_BYTES: '1.5' }]) {
      expect((await app.request('/echo', jsonRequest(bodyOf(33)), env)).status).toBe(413);
      expect((await app.request('/echo', jsonRequest(bodyOf(32)), env)).status).toBe(200);
    }
  });

  it('defaults to 1 MiB', async () => {
    const { app } = echoApp();
    expect(DEFAULT_BODY_LIMIT_BYTES).toBe(1024 * 1024);
    expect((await app.request('/echo', jsonRequest(bodyOf(DEFAULT_BODY_LIMIT_BYTES + 1)))).status).toBe(413);
    expect((await app.request('/echo', jsonRequest(bodyOf(DEFAULT_BODY_LIMIT_BYTES)))).status).toBe(200);
  });

  it('applies each request its own env limit', async () => {
    const { app } = echoApp();
    const body = bodyOf(100);
    expect((await app.request('/echo', jsonRequest(body), { BODY_LIMIT_BYTES: '99' })).status).toBe(413);
    expect((await app.request('/echo', jsonRequest(body), { BODY_LIMIT_BYTES: '100' })).status).toBe(200);
    expect((await app.request('/echo', jsonRequest(body), { BODY_LIMIT_BYTES: '99' })).status).toBe(413);
  });
});

describe('createServiceApp: log level from LOG_LEVEL', () => {
  const messages = async (env: Record<string, string>) => {
    const h = echoApp();
    await h.app.request('/chatty', {}, env);
    return h.logs().map((r) => r.msg);
  };

  it('is info by default', async () => {
    expect(await messages({})).toEqual(['info detail', 'request']);
  });

  it('follows LOG_LEVEL per request', async () => {
    expect(await messages({ LOG_LEVEL: 'debug' })).toEqual(['debug detail', 'info detail', 'request']);
    expect(await messages({ LOG_LEVEL: 'warn' })).toEqual([]);
  });

  it('falls back to info for a LOG_LEVEL that is not a level, including Object.prototype names', async () => {
    for (const level of ['verbose', 'DEBUG', 'constructor', 'toString', '__proto__']) {
      expect(await messages({ LOG_LEVEL: level })).toEqual(['info detail', 'request']);
    }
  });
});

describe('createServiceApp: baseline headers', () => {
  it('adds the security headers to answers and problems alike', async () => {
    const { app } = echoApp();
    for (const response of [await app.request('/chatty'), await app.request('/nowhere')]) {
      expect(response.headers.get('x-content-type-options')).toBe('nosniff');
      expect(response.headers.get('strict-transport-security')).toContain('max-age=');
    }
  });
});

describe('addHealthRoutes', () => {
  it('answers /health without running any check', async () => {
    const h = harness();
    let ran = 0;
    addHealthRoutes(h.app, () => ({
      db: async () => {
        ran++;
      },
    }));
    const response = await h.app.request('/health');
    expect(response.status).toBe(200);
    expect(response.headers.get('cache-control')).toBe('no-store');
    expect(await response.json()).toEqual({ status: 'ok' });
    expect(ran).toBe(0);
  });

  it('answers /ready 200 when every check is up and 503 naming the one that is down', async () => {
    const h = harness();
    let dbUp = true;
    addHealthRoutes(h.app, () => ({
      db: async () => {
        if (!dbUp) throw new Error('D1 unreachable');
      },
      kv: async () => undefined,
    }));
    const ready = await h.app.request('/ready');
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: 'ready', checks: { db: { status: 'up' }, kv: { status: 'up' } } });

    dbUp = false;
    const notReady = await h.app.request('/ready');
    expect(notReady.status).toBe(503);
    expect(await notReady.json()).toEqual({ status: 'not_ready', checks: { db: { status: 'down', error: 'D1 unreachable' }, kv: { status: 'up' } } });
  });

  it('gives checks the request context and cuts them at the deadline it computes', async () => {
    vi.useFakeTimers();
    try {
      const h = harness();
      let seenRequestId: string | undefined;
      addHealthRoutes(
        h.app,
        (c) => ({
          db: () => {
            seenRequestId = c.get('requestId');
            return new Promise<void>(() => undefined);
          },
        }),
        (c) => Number(c.req.query('timeout')),
      );
      const pending = h.app.request('/ready?timeout=50', { headers: { 'x-request-id': 'ready-1' } });
      await vi.advanceTimersByTimeAsync(50);
      const response = await pending;
      expect(response.status).toBe(503);
      expect(await response.json()).toEqual({ status: 'not_ready', checks: { db: { status: 'down', error: 'no answer within 50 ms' } } });
      expect(seenRequestId).toBe('ready-1');
    } finally {
      vi.useRealTimers();
    }
  });
});
