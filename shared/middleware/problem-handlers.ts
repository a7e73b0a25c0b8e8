import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import { HttpError, isHttpError, problemResponse, toProblem } from '../http/problem';
import { publicPath } from '../http/public-path';
import type { AppEnv } from './app-env';

/** Hono's own HTTPException (thrown by its validator and middleware) as one of ours. */
function fromHonoException(error: HTTPException): HttpError {
  const headers: Record<string, string> = {};
  error.getResponse().headers.forEach((value, key) => {
    if (key !== 'content-type' && key !== 'content-length') headers[key] = value;
  });
  return new HttpError(error.status, { detail: error.message || undefined, headers, cause: error.cause });
}

const respond = <E extends AppEnv>(c: Context<E>, error: HttpError) =>
  problemResponse(toProblem(error, { instance: publicPath(c), requestId: c.get('requestId') }), error.headers);

/**
 * The one `onError` of every app: typed errors become their problem+json; anything else is a 500
 * whose detail says nothing about internals, while the log line keeps the whole error.
 */
export const problemOnError = <E extends AppEnv>(error: Error, c: Context<E>): Response => {
  if (isHttpError(error)) return respond(c, error);
  if (error instanceof HTTPException) return respond(c, fromHonoException(error));
  c.get('log')?.error('unhandled error', { error });
  return respond(c, new HttpError(500, { detail: 'An unexpected error occurred; the request id finds it in the logs.' }));
};

export const problemNotFound = <E extends AppEnv>(c: Context<E>): Response =>
  respond(c, new HttpError(404, { detail: `No route for ${c.req.method} ${c.req.path}.` }));
