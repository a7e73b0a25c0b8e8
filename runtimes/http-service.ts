import type { ServiceTransport } from '../workers/gateway/platform';

/**
 * A service reached over HTTP at a base URL, in place of a Cloudflare service binding. The gateway
 * addresses a service as `https://<route>.internal/<path>` (proxy.ts); only the origin is
 * replaced, and a base path (`http://host/catalog`) is kept in front of the path. Everything else
 * of the request (method, headers, body stream, abort signal, `redirect: manual`) goes as it is.
 */
export function httpService(baseUrl: string): ServiceTransport {
  const base = new URL(baseUrl);
  const basePath = base.pathname.replace(/\/+$/, '');
  return {
    fetch(request) {
      const from = new URL(request.url);
      const to = new URL(base.origin);
      // Set through the URL's pathname, never by string concatenation onto the origin: a path
      // like `//evil.example/x` must stay a path on this host.
      to.pathname = `${basePath}${from.pathname}`;
      to.search = from.search;
      return fetch(new Request(to, request));
    },
  };
}
