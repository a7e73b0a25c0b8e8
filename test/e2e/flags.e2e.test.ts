import { describe, expect, it } from 'vitest';
import { evaluateFlags, type FlagSet } from '../../shared/flags/flag-set';
import { gatewayConfig } from '../../workers/gateway/config';
import gateway from '../../workers/gateway/index';
import { bearerFor } from '../support/access-token';
import { callWorker, testEnv } from '../support/call-worker';

/** GET /api/flags: the gateway's feature flags as they fall for the caller. */

const FLAGS: FlagSet = [
  { key: 'half', enabled: true, rolloutPercent: 50 },
  { key: 'everyone', enabled: true, rolloutPercent: 100 },
  { key: 'killed', enabled: false, rolloutPercent: 100 },
  { key: 'staff-only', enabled: true, rolloutPercent: 0, allow: ['usr_flags_staff'] },
];
const withFlags = () => testEnv({ FEATURE_FLAGS: JSON.stringify(FLAGS) });

async function flagsFor(gw: Cloudflare.Env, headers: Record<string, string> = {}) {
  const response = await callWorker(gateway, '/api/flags', { headers }, gw);
  return { status: response.status, response, body: (await response.json()) as { flags: Record<string, boolean> } };
}

describe('GET /api/flags', () => {
  it('evaluates every flag for a signed-in user by their id, the same on every call', async () => {
    const gw = withFlags();
    const seen = new Set<boolean>();
    for (const user of [...Array.from({ length: 30 }, (_, i) => `usr_flags_${i}`), 'usr_flags_staff']) {
      const headers = await bearerFor(user, 'customer');
      const first = await flagsFor(gw, headers);
      expect(first.status).toBe(200);
      expect(first.response.headers.get('cache-control')).toBe('private, no-store');
      expect(first.response.headers.get('set-cookie')).toBeNull();
      expect(first.body.flags).toEqual(evaluateFlags(FLAGS, user));
      expect(first.body.flags).toMatchObject({ everyone: true, killed: false, 'staff-only': user === 'usr_flags_staff' });
      expect((await flagsFor(gw, headers)).body).toEqual(first.body);
      seen.add(first.body.flags.half!);
    }
    // A 50% rollout over 31 users: some have it, some do not.
    expect(seen).toEqual(new Set([true, false]));
  });

  it('gives an anonymous visitor the stratus_uid cookie and evaluates by it, sticky from then on', async () => {
    const gw = withFlags();
    const first = await flagsFor(gw);
    const cookie = (first.response.headers.get('set-cookie') ?? '').split(';')[0]!;
    expect(cookie).toMatch(/^stratus_uid=[0-9a-f-]{36}$/);
    expect(first.body.flags).toEqual(evaluateFlags(FLAGS, cookie.slice('stratus_uid='.length)));
    const again = await flagsFor(gw, { cookie });
    expect(again.response.headers.get('set-cookie')).toBeNull();
    expect(again.body).toEqual(first.body);
  });

  it('refuses a broken access token with 401, as every API route does', async () => {
    const { status, response } = await flagsFor(withFlags(), { authorization: 'Bearer not-a-token' });
    expect(status).toBe(401);
    expect(response.headers.get('www-authenticate')).toMatch(/^Bearer/);
  });

  it('answers {} with no flags configured, and refuses flag definitions that do not validate, naming the variable', async () => {
    expect((await flagsFor(testEnv({}))).body).toEqual({ flags: {} });
    for (const bad of ['not json', '[{"key":"x","enabled":true,"rolloutPercent":150}]', '[{"key":"x","enabled":true,"rolloutPercent":1},{"key":"x","enabled":true,"rolloutPercent":2}]']) {
      expect(() => gatewayConfig(testEnv({ FEATURE_FLAGS: bad }))).toThrow(/FEATURE_FLAGS/);
    }
  });
});
