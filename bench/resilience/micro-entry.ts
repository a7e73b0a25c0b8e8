/**
 * What the Node micro-benchmark (micro.mjs) needs from the TypeScript sources, in one module that
 * esbuild bundles (Node 20 cannot import .ts): the breaker policy exactly as the gateway composes
 * it, over the in-memory authority instead of the Durable Object.
 */
export { BreakerClient } from '../../shared/resilience/breaker-client';
export { circuitBreaker } from '../../shared/resilience/breaker-policy';
export { DEFAULT_BREAKER_OPTIONS } from '../../shared/resilience/circuit-breaker';
export { MemoryBreakerAuthority } from '../../shared/adapters/memory/memory-breaker-authority';
