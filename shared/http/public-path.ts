import type { Context } from 'hono';

/**
 * The path as the client sees it. Behind the gateway a service sees its path with the route
 * prefix stripped; the gateway tells it that prefix in `x-forwarded-prefix` (and removes any a
 * client sent), so problem `instance`s and `Location`s built from this work from outside.
 */
export const publicPath = (c: Context, path: string = c.req.path): string => `${c.req.header('x-forwarded-prefix') ?? ''}${path}`;
