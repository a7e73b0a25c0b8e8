/**
 * The URL of `path` (and `search`) on an origin whose base URL may carry a base path
 * (`http://10.0.0.7:8080/shop` + `/cart` → `http://10.0.0.7:8080/shop/cart`). Set through the
 * URL's pathname, never by string concatenation onto the origin: a path like `//evil.example/x`
 * stays a path on this host.
 */
export function originUrl(base: string, path: string, search = ''): URL {
  const origin = new URL(base);
  const basePath = origin.pathname.replace(/\/+$/, '');
  const url = new URL(origin.origin);
  url.pathname = `${basePath}${path}`;
  url.search = search;
  return url;
}
