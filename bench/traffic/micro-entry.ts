/**
 * What the Node micro-benchmark (micro.mjs) needs from the TypeScript sources, bundled with esbuild
 * (Node 20 cannot import .ts): the pure decision functions, and the step the RateLimiter Durable
 * Object runs per request (limiterStep: policy check, fingerprint, the algorithm).
 */
export { limiterStep } from '../../shared/ratelimit/limiter';
export { slidingWindow } from '../../shared/ratelimit/sliding-window';
export { tokenBucket } from '../../shared/ratelimit/token-bucket';
