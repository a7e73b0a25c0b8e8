import type { Context } from 'hono';

/**
 * Headers the gateway sends so a service can name its paths as clients see them (and removes
 * any a client sent): the route's public prefix, and the prefix it put in its place upstream
 * when the route rewrites one to another (`/api/payments/x` → `/payments/x`).
 */
export const FORWARDED_PREFIX_HEADERS = { public: 'x-forwarded-prefix', upstream: 'x-forwarded-upstream-prefix' } as const;

/**
 * The path as the client sees it: the upstream prefix taken off, the public prefix put on, so
 * problem `instance`s and `Location`s built from this work from outside.
 */
export function publicPath(c: Context, path: string = c.req.path): string {
  const upstream = c.req.header(FORWARDED_PREFIX_HEADERS.upstream) ?? '';
  const local = upstream && (path === upstream || path.startsWith(`${upstream}/`)) ? path.slice(upstream.length) : path;
  return `${c.req.header(FORWARDED_PREFIX_HEADERS.public) ?? ''}${local}`;
}
