// A stand-in HTTP origin for origin-pool tests: answers every path with what it received
// (`{origin, method, path, headers}`), counts requests, and can be switched to fail every request,
// its health check included, through `POST /_mode {"failing":true}`. `GET /_count` says how many
// requests (not counting /_mode, /_count or /health) it has answered.
import { createServer } from 'node:http';

/** @param {string} name */
export function startTestOrigin(name) {
  let failing = false;
  let count = 0;
  const server = createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://origin.invalid');
    const reply = (status, body) => {
      const text = JSON.stringify(body);
      response.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), connection: 'close' });
      response.end(text);
    };
    if (url.pathname === '/_mode' && request.method === 'POST') {
      let body = '';
      request.on('data', (chunk) => (body += chunk));
      request.on('end', () => {
        failing = JSON.parse(body || '{}').failing === true;
        reply(200, { origin: name, failing });
      });
      return;
    }
    if (url.pathname === '/_count') return reply(200, { origin: name, count });
    if (url.pathname === '/health') return failing ? reply(503, { status: 'down' }) : reply(200, { status: 'ok' });
    count++;
    request.resume();
    if (failing) return reply(503, { origin: name, error: 'failing on purpose' });
    reply(200, { origin: name, method: request.method, path: url.pathname, search: url.search, headers: request.headers });
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      resolve({ url: `http://127.0.0.1:${address.port}`, close: () => new Promise((done) => (server.close(() => done()), server.closeAllConnections())) });
    });
  });
}
