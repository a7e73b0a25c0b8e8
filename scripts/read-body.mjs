// A request body read whole, with a size cap, for the local stand-ins (scripts/qstash/*,
// scripts/upstash-redis-bridge.mjs). Past the cap it stops reading and fails at once (the caller
// answers 413 and the connection closes); a request aborted half-way fails instead of hanging.

/**
 * @param {import('node:http').IncomingMessage} req
 * @param {{ maxBytes: number, error: (status: number, message: string) => Error }} options
 * @returns {Promise<Buffer>}
 */
export function readBody(req, { maxBytes, error }) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    let size = 0;
    req.on('data', (chunk) => {
      size += chunk.length;
      if (size > maxBytes) {
        req.pause();
        reject(error(413, `the request body is larger than ${maxBytes} bytes`));
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
    req.on('close', () => reject(error(400, 'the request was aborted'))); // no-op after 'end'
  });
}
