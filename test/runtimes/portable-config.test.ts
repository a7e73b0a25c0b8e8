import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clientAddress } from '../../runtimes/gateway-app';
import { httpService } from '../../runtimes/http-service';
import { portableConfig } from '../../runtimes/portable-config';

describe('portableConfig (runtimes/portable-config.ts)', () => {
  it('takes each service URL that is set, memory state, and the defaults', () => {
    const config = portableConfig({ UPSTREAM_CATALOG_URL: 'http://127.0.0.1:9001', UPSTREAM_USERS_URL: ' ', UNRELATED: 'x' });
    expect(config).toEqual({ port: 8788, hostname: '127.0.0.1', state: { kind: 'memory' }, upstreams: { CATALOG: 'http://127.0.0.1:9001' }, trustedProxies: new Set(), healthCheckIntervalMs: 10_000 });
  });

  it('takes Upstash state with its URL and token', () => {
    const config = portableConfig({ STATE: 'upstash', UPSTASH_REDIS_REST_URL: 'http://127.0.0.1:8079', UPSTASH_REDIS_REST_TOKEN: 't', PORT: '0' });
    expect(config.state).toEqual({ kind: 'upstash', url: 'http://127.0.0.1:8079', token: 't' });
    expect(config.port).toBe(0);
  });

  it('takes TRUSTED_PROXIES as addresses, each spelled one way, and refuses an entry that is not one', () => {
    expect(portableConfig({ TRUSTED_PROXIES: ' 10.0.0.5, ::ffff:10.0.0.6 ,2001:DB8::1,' }).trustedProxies).toEqual(new Set(['10.0.0.5', '10.0.0.6', '2001:db8:0:0:0:0:0:1']));
    expect(() => portableConfig({ TRUSTED_PROXIES: '10.0.0.5, 10.0.0.0/8' })).toThrow(/TRUSTED_PROXIES: "10.0.0.0\/8" is not an IP address/);
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

describe('clientAddress (who the caller is, behind trusted proxies)', () => {
  const trusted = new Set(['10.0.0.5', '10.0.0.6']);

  it('is the peer when the peer is not a trusted proxy, whatever X-Forwarded-For says', () => {
    expect(clientAddress('198.51.100.7', '203.0.113.1', trusted)).toBe('198.51.100.7');
    expect(clientAddress('198.51.100.7', null, new Set())).toBe('198.51.100.7');
  });

  it('behind trusted proxies, is the rightmost address none of them vouches for', () => {
    expect(clientAddress('10.0.0.5', '203.0.113.1', trusted)).toBe('203.0.113.1');
    expect(clientAddress('::ffff:10.0.0.5', '203.0.113.1', trusted)).toBe('203.0.113.1');
    // A client that writes its own X-Forwarded-For only adds entries on the left: never taken.
    expect(clientAddress('10.0.0.5', '192.0.2.66, 203.0.113.1', trusted)).toBe('203.0.113.1');
    // Two trusted proxies in a row.
    expect(clientAddress('10.0.0.5', '192.0.2.66, 203.0.113.1, 10.0.0.6', trusted)).toBe('203.0.113.1');
  });

  it('keys by the proxy when what it reports is missing or not an address', () => {
    expect(clientAddress('10.0.0.5', null, trusted)).toBe('10.0.0.5');
    expect(clientAddress('10.0.0.5', '203.0.113.1, unknown', trusted)).toBe('10.0.0.5');
    expect(clientAddress('10.0.0.5', '10.0.0.6', trusted)).toBe('10.0.0.6');
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
