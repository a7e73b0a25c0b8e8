import type { MiddlewareHandler } from 'hono';

/**
 * The request body limit: a body larger than `maxSize` bytes is refused (`tooLarge()`, a 413)
 * before any handler sees it, and never left half read.
 *
 * Hand-written rather than `hono/body-limit`: for a body without a Content-Length (chunked), that
 * middleware reads up to the limit and throws with the rest of the body unread and its reader
 * still locked. Under `wrangler dev` the connection that body came in on (from the dev proxy to
 * workerd) is then out of step, and the next write through the proxy, from any client, got
 * `503 "Your worker restarted mid-request"` and was not applied. Cancelling the stream was not
 * enough there (the runtime did not resync that connection either); reading the rest to its end
 * and discarding it is, as HTTP servers do before they reuse a connection. That is bounded
 * (DRAIN_LIMIT_BYTES in all; past it the rest is cancelled), so a client cannot keep a worker
 * reading. A body with a Content-Length over the limit is refused unread: the runtime knows where
 * it ends and skips it itself.
 */
export function bodyLimit(maxSize: number, tooLarge: () => Error): MiddlewareHandler {
  return async function bodyLimit(c, next) {
    const raw = c.req.raw;
    if (!raw.body) return next();
    const declared = raw.headers.get('content-length');
    if (declared !== null && !raw.headers.has('transfer-encoding')) {
      if (Number(declared) > maxSize) {
        await raw.body.cancel().catch(() => undefined);
        throw tooLarge();
      }
      return next();
    }
    const reader = raw.body.getReader();
    const chunks: Uint8Array[] = [];
    let size = 0;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.byteLength;
      if (size > maxSize) {
        await discardRest(reader, size);
        throw tooLarge();
      }
      chunks.push(value);
    }
    const body = new Uint8Array(size);
    let offset = 0;
    for (const chunk of chunks) {
      body.set(chunk, offset);
      offset += chunk.byteLength;
    }
    c.req.raw = new Request(raw, { body });
    return next();
  };
}

/** Past this many bytes read in all, the rest of an oversized body is cancelled instead of read. */
export const DRAIN_LIMIT_BYTES = 16 * 1024 * 1024;

async function discardRest(reader: ReadableStreamDefaultReader<Uint8Array>, alreadyRead: number): Promise<void> {
  let size = alreadyRead;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      size += value.byteLength;
      if (size > DRAIN_LIMIT_BYTES) break;
    }
  } catch {
    return;
  }
  await reader.cancel('request body over the limit').catch(() => undefined);
}
