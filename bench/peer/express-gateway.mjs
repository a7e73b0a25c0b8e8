// The peer: the API gateway the well-known Node tutorials build, with the policies of policy.mjs.
// express 5 routes, express-rate-limit counts per caller (its in-memory store, fixed window),
// opossum wraps the upstream call in a circuit breaker, http-proxy-middleware proxies it. Runs in
// its own Node process; UPSTREAM_URL names the upstream. Prints {"port":…} once listening.
import { Agent } from 'node:http';
import express from 'express';
import { rateLimit } from 'express-rate-limit';
import { createProxyMiddleware } from 'http-proxy-middleware';
import CircuitBreaker from 'opossum';
import { BREAKER, PREFIX, RATE_LIMIT, TIMEOUT_MS } from './policy.mjs';

const upstream = process.env.UPSTREAM_URL;
if (!upstream) throw new Error('UPSTREAM_URL is required');

const limiter = rateLimit({
  windowMs: RATE_LIMIT.windowMs,
  limit: RATE_LIMIT.limit,
  standardHeaders: 'draft-8', // RateLimit-Policy and RateLimit, as stratus sends them
  legacyHeaders: false,
  // The caller as stratus sees one: CF-Connecting-IP (the load sets one per connection).
  keyGenerator: (req) => req.get('cf-connecting-ip') ?? 'unknown',
});

// Mounted at PREFIX, so express has already stripped it: req.url is the upstream path.
const proxy = createProxyMiddleware({
  target: upstream,
  // Upstream connections kept alive and reused, as production guides for this stack advise and as
  // workerd does for stratus's upstream: without an agent, http-proxy sends \`Connection: close\`
  // and opens a new TCP connection per request, which would measure connection setup, not the stack.
  agent: new Agent({ keepAlive: true }),
  // The upstream call's deadline (the incoming socket's `timeout` is left alone: set per request on
  // a keep-alive socket it piles up listeners, a warning per request).
  proxyTimeout: TIMEOUT_MS,
  on: {
    // The breaker learns each outcome: a 5xx or a failed call is a failure, as stratus counts them.
    proxyRes: (proxyRes, req) => req.settle?.(proxyRes.statusCode >= 500 ? new Error(`upstream answered ${proxyRes.statusCode}`) : null),
    error: (error, req) => req.settle?.(error),
  },
});

const breaker = new CircuitBreaker(
  (req, res) =>
    new Promise((resolve, reject) => {
      req.settle = (error) => (error ? reject(error) : resolve());
      proxy(req, res, () => reject(new Error('not proxied')));
    }),
  {
    timeout: TIMEOUT_MS,
    errorThresholdPercentage: BREAKER.failureRatePercent,
    volumeThreshold: BREAKER.minimumCalls,
    rollingCountTimeout: BREAKER.windowMs,
    rollingCountBuckets: BREAKER.windowBuckets,
    resetTimeout: BREAKER.openDurationMs,
  },
);

const app = express();
app.disable('x-powered-by');
app.use(PREFIX, limiter, (req, res) => {
  breaker.fire(req, res).catch(() => {
    // A failure the proxy already answered (the upstream's 5xx, or its own 502/504) stays as it is;
    // an open breaker refused the call without making it: 503, as stratus's circuit-open.
    if (res.headersSent) return;
    res
      .status(503)
      .set('retry-after', String(Math.ceil(BREAKER.openDurationMs / 1000)))
      .type('application/problem+json')
      .send(JSON.stringify({ type: '/problems/circuit-open', title: 'Service Unavailable', status: 503 }));
  });
});

const server = app.listen(0, '127.0.0.1', () => console.log(JSON.stringify({ port: server.address().port })));
server.keepAliveTimeout = 60_000;
// Keep-alive connections would hold server.close() open: a bench server just ends.
process.on('SIGTERM', () => process.exit(0));
