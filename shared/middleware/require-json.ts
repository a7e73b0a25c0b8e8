import type { MiddlewareHandler } from 'hono';
import { unsupportedMediaType } from '../http/problem';

const JSON_TYPE = /^application\/([a-z0-9.+-]+\+)?json\s*(;|$)/i;
/** A body is present unless there is none or it is declared empty (`content-length: 0`). */
const hasBody = (request: Request) => request.body !== null && request.headers.get('content-length') !== '0';

/**
 * Requests that carry a body must say it is JSON; anything else is 415. Without this, Hono's JSON
 * validator would read a form post as an empty object and answer with misleading field errors.
 * Bodiless requests (a POST that only triggers an action) pass.
 */
export const requireJson = (): MiddlewareHandler =>
  async function requireJson(c, next) {
    if (hasBody(c.req.raw) && !JSON_TYPE.test(c.req.header('content-type') ?? '')) {
      throw unsupportedMediaType('The request body must be JSON (content-type: application/json).');
    }
    await next();
  };
