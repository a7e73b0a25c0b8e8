import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import type { GatewayBindings } from '../../../workers/gateway/env';
import { PLATFORM, platformOf, type GatewayPlatform } from '../../../workers/gateway/platform';

describe('platformOf (which platform the gateway runs on)', () => {
  it('builds Cloudflare\'s from the bindings even when a variable is named PLATFORM', () => {
    // As a `PLATFORM = "..."` in wrangler.toml [vars] or .dev.vars would put it in the env.
    for (const value of ['bun', '{"name":"bun"}', { name: 'bun' }]) {
      const withVar = { ...env, PLATFORM: value } as unknown as GatewayBindings;
      expect(platformOf(withVar).name).toBe('cloudflare');
    }
  });

  it('takes the platform injected under the PLATFORM symbol (the Bun and Deno entry points\')', () => {
    const injected = { name: 'bun' } as GatewayPlatform;
    expect(platformOf({ ...(env as unknown as GatewayBindings), [PLATFORM]: injected })).toBe(injected);
  });

  it('is built once per environment, not per request: the same platform, rate-limit backend and transports each time', () => {
    const bindings = { ...(env as unknown as GatewayBindings) };
    const first = platformOf(bindings);
    expect(platformOf(bindings)).toBe(first);
    expect(platformOf(bindings).rateLimits).toBe(first.rateLimits);
    expect(first.service('CATALOG')).toBe(bindings.CATALOG);
    // Another environment (a test's own bindings) gets its own.
    expect(platformOf({ ...bindings })).not.toBe(first);
  });
});
