import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { httpService } from '../../runtimes/http-service';
import { portableConfig } from '../../runtimes/portable-config';

describe('portableConfig (runtimes/portable-config.ts)', () => {
  it('takes each service URL that is set, memory state, and the defaults', () => {
    const config = portableConfig({ UPSTREAM_CATALOG_URL: 'http://127.0.0.1:9001', UPSTREAM_USERS_URL: ' ', UNRELATED: 'x' });
    expect(config).toEqual({ port: 8788, hostname: '127.0.0.1', state: { kind: 'memory' }, upstreams: { CATALOG: 'http://127.0.0.1:9001' } });
  });

  it('takes Upstash state with its URL and token', () => {
    const config = portableConfig({ STATE: 'upstash', UPSTASH_REDIS_REST_URL: 'http://127.0.0.1:8079', UPSTASH_REDIS_REST_TOKEN: 't', PORT: '0' });
    expect(config.state).toEqual({ kind: 'upstash', url: 'http://127.0.0.1:8079', token: 't' });
    expect(config.port).toBe(0);
  });

  it('refuses what it cannot run with, naming every variable at once', () => {
    expect(() => portableConfig({ STATE: 'upstash' })).toThrow(/STATE: upstash needs UPSTASH_REDIS_REST_URL and UPSTASH_REDIS_REST_TOKEN/);
    let message = '';
    try {
      portableConfig({ STATE: 'redis', UPSTREAM_CATALOG_URL: 'ftp://x', PORT: '70000' });
    } catch (error) {
      message = (error as Error).message;
    }
    for (const name of ['STATE', 'UPSTREAM_CATALOG_URL', 'PORT']) expect(message).toContain(`${name}: `);
  });
});

describe('httpService (runtimes/http-service.ts)', () => {
  const seen: { method?: string; url?: string; body: string }[] = [];
  let base = '';
  const server = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString()));
    request.on('end', () => {
      seen.push({ method: request.method, url: request.url, body });
      response.end('ok');
    });
  });

  beforeAll(async () => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('replaces only the origin, keeps a base path in front, and sends method, query and body as they are', async () => {
    const service = httpService(`${base}/catalog/`);
    const response = await service.fetch(new Request('https://catalog.internal/products/p1?b=2&a=1', { method: 'POST', body: '{"x":1}', headers: { 'content-type': 'application/json' } }));
    expect(await response.text()).toBe('ok');
    expect(seen.at(-1)).toEqual({ method: 'POST', url: '/catalog/products/p1?b=2&a=1', body: '{"x":1}' });
  });

  it('keeps a path that looks like a host a path on the service', async () => {
    const target = new URL('https://catalog.internal');
    target.pathname = '//evil.example/x';
    await httpService(base).fetch(new Request(target));
    expect(seen.at(-1)?.url).toBe('//evil.example/x');
  });
});
