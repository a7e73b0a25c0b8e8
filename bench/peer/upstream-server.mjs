// The one upstream both gateways call (bench/peer), over loopback HTTP: a bare Node server that
// answers every request 200 `ok`, or 503 while failing (POST /__bench/fail, /__bench/ok switch;
// only the runner calls them, directly). Runs in its own process, so neither gateway shares its
// event loop. Prints {"port":…} once listening. With a JWKS env var it also stands in for the
// users service's key set (GET /.well-known/jwks.json), so a gateway can verify the signed-in
// callers' access tokens the runner made (the cost ladder).
import { createServer } from 'node:http';

let failing = false;
const server = createServer((request, response) => {
  if (request.method === 'POST' && request.url?.startsWith('/__bench/')) {
    failing = request.url === '/__bench/fail';
    response.writeHead(204).end();
    return;
  }
  if (process.env.JWKS && request.url === '/.well-known/jwks.json') {
    response.writeHead(200, { 'content-type': 'application/json' }).end(process.env.JWKS);
    return;
  }
  // Drain whatever was sent, then answer.
  request.resume();
  request.on('end', () => {
    if (failing) response.writeHead(503, { 'content-type': 'text/plain; charset=utf-8' }).end('failing on purpose');
    else response.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' }).end('ok');
  });
});
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => console.log(JSON.stringify({ port: server.address().port })));
// Keep-alive connections would hold server.close() open: a bench server just ends.
process.on('SIGTERM', () => process.exit(0));
