import { exportJWK, generateKeyPair, SignJWT, UnsecuredJWT, type JWK } from 'jose';
import { Hono } from 'hono';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import type { AppEnv } from '../../../shared/middleware/app-env';
import { createServiceApp } from '../../../shared/middleware/service-app';
import { callerIdentity } from '../../../workers/gateway/auth/caller-identity';
import type { GatewayBindings } from '../../../workers/gateway/env';
import { callWorker, testEnv } from '../../support/call-worker';

/** The users service's signing key, as a test makes it, and what its JWKS endpoint would serve. */
let privateKey: CryptoKey;
let publicJwk: JWK;
let attacker: CryptoKey;
let jwksFetches = 0;
let jwks: { keys: JWK[] };

beforeAll(async () => {
  const pair = await generateKeyPair('ES256', { extractable: true });
  privateKey = pair.privateKey;
  publicJwk = { ...(await exportJWK(pair.publicKey)), kid: 'k1', alg: 'ES256', use: 'sig' };
  attacker = (await generateKeyPair('ES256')).privateKey;
  jwks = { keys: [publicJwk] };
});

/** A gateway app that answers with the identity callerIdentity found. */
function gateway() {
  const USERS = {
    fetch: async (request: Request) => {
      expect(new URL(request.url).pathname).toBe('/.well-known/jwks.json');
      jwksFetches++;
      return Response.json(jwks);
    },
  } as unknown as Fetcher;
  const app: Hono<AppEnv<GatewayBindings>> = createServiceApp<GatewayBindings>({ service: 'gateway' });
  app.get('/who', async (c) => c.json(await callerIdentity(c)));
  const gwEnv = testEnv({ USERS });
  return (headers: Record<string, string> = {}) => callWorker(app, '/who', { headers }, gwEnv);
}

const now = () => Math.floor(Date.now() / 1000);
const token = (claims: Record<string, unknown> = {}, options: { key?: CryptoKey; kid?: string; alg?: string } = {}) =>
  new SignJWT({ roles: ['customer'], ...claims })
    .setProtectedHeader({ alg: options.alg ?? 'ES256', kid: options.kid ?? 'k1', typ: 'JWT' })
    .setIssuer((claims.iss as string) ?? 'stratus-users')
    .setAudience((claims.aud as string) ?? 'stratus')
    .setSubject('u-1')
    .setIssuedAt((claims.iat as number) ?? now())
    .setExpirationTime((claims.exp as number) ?? now() + 900)
    .setJti(crypto.randomUUID())
    .sign(options.key ?? privateKey);

const bearer = (t: string) => ({ authorization: `Bearer ${t}` });

async function refused(response: Response) {
  expect(response.status).toBe(401);
  expect(response.headers.get('content-type')).toBe('application/problem+json');
  const challenge = response.headers.get('www-authenticate') ?? '';
  expect(challenge).toMatch(/^Bearer realm="stratus"/);
  return challenge;
}

describe('access tokens at the edge', () => {
  it('accepts a valid token and finds the user and roles in it', async () => {
    const call = gateway();
    const response = await call(bearer(await token({ roles: ['customer', 'admin'] })));
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ userId: 'u-1', roles: ['customer', 'admin'] });
    expect(await (await call()).json()).toBeNull();
  });

  it('fetches the keys once and keeps them', async () => {
    const call = gateway();
    const before = jwksFetches;
    for (let i = 0; i < 5; i++) expect((await call(bearer(await token()))).status).toBe(200);
    expect(jwksFetches - before).toBe(1);
  });

  it('refuses alg none', async () => {
    const unsigned = new UnsecuredJWT({ roles: ['admin'] }).setIssuer('stratus-users').setAudience('stratus').setSubject('u-1').setIssuedAt().setExpirationTime('10m').encode();
    await refused(await gateway()(bearer(unsigned)));
  });

  it('refuses any other algorithm, including HS256 keyed with the public key (algorithm confusion)', async () => {
    const secret = new TextEncoder().encode(JSON.stringify(publicJwk));
    await refused(await gateway()(bearer(await token({}, { alg: 'HS256', key: secret as unknown as CryptoKey }))));
  });

  it('refuses a bad signature: another key under our kid, or a changed payload', async () => {
    const call = gateway();
    await refused(await call(bearer(await token({}, { key: attacker }))));
    const [head, , signature] = (await token()).split('.');
    const elevated = btoa(JSON.stringify({ sub: 'u-1', roles: ['admin'], iss: 'stratus-users', aud: 'stratus', iat: now(), exp: now() + 900 }))
      .replace(/=+$/, '')
      .replace(/\+/g, '-')
      .replace(/\//g, '_');
    await refused(await call(bearer(`${head}.${elevated}.${signature}`)));
  });

  it('refuses an expired token and one not yet valid, saying which', async () => {
    const call = gateway();
    const expired = await refused(await call(bearer(await token({ iat: now() - 2_000, exp: now() - 60 }))));
    expect(expired).toContain('error="invalid_token"');
    expect(expired).toContain('expired');
    const future = await new SignJWT({ roles: [] })
      .setProtectedHeader({ alg: 'ES256', kid: 'k1' })
      .setIssuer('stratus-users')
      .setAudience('stratus')
      .setSubject('u-1')
      .setIssuedAt()
      .setNotBefore(now() + 600)
      .setExpirationTime(now() + 1_500)
      .sign(privateKey);
    await refused(await call(bearer(future)));
  });

  it('refuses the wrong issuer or audience', async () => {
    const call = gateway();
    await refused(await call(bearer(await token({ iss: 'someone-else' }))));
    await refused(await call(bearer(await token({ aud: 'another-api' }))));
  });

  it('refuses garbage, another scheme, and the operator token on API routes', async () => {
    const call = gateway();
    await refused(await call(bearer('not.a.jwt')));
    await refused(await call({ authorization: 'Basic dXNlcjpwYXNz' }));
    await refused(await call(bearer('test-admin-token')));
  });

  it('picks up a rotated key: an unknown kid fetches the keys again, but at most once per 30 s', async () => {
    const call = gateway();
    expect((await call(bearer(await token()))).status).toBe(200);
    const next = await generateKeyPair('ES256', { extractable: true });
    jwks = { keys: [publicJwk, { ...(await exportJWK(next.publicKey)), kid: 'k2', alg: 'ES256' }] };
    const rotated = await token({}, { key: next.privateKey, kid: 'k2' });
    const before = jwksFetches;
    // Just after a fetch, an unknown kid (a forged one looks the same) costs no fetch...
    await refused(await call(bearer(rotated)));
    expect(jwksFetches).toBe(before);
    // ...past the cooldown it does, and the new key verifies.
    const realNow = Date.now();
    const clock = vi.spyOn(Date, 'now').mockReturnValue(realNow + 31_000);
    try {
      expect((await call(bearer(rotated))).status).toBe(200);
      expect(jwksFetches).toBe(before + 1);
    } finally {
      clock.mockRestore();
      jwks = { keys: [publicJwk] };
    }
  });
});

describe('verified access tokens, remembered until they expire', () => {
  const elevate = (t: string) => {
    const [head, body, signature] = t.split('.');
    const payload = { ...JSON.parse(atob(body!.replace(/-/g, '+').replace(/_/g, '/'))), roles: ['admin'] };
    return `${head}.${btoa(JSON.stringify(payload)).replace(/=+$/, '').replace(/\+/g, '-').replace(/\//g, '_')}.${signature}`;
  };

  it('a tampered copy of a token that verified is refused: the memory is keyed by the full token', async () => {
    const call = gateway();
    const good = await token();
    expect((await call(bearer(good))).status).toBe(200);
    await refused(await call(bearer(elevate(good))));
    expect(await (await call(bearer(good))).json()).toEqual({ userId: 'u-1', roles: ['customer'] });
  });

  it('never answers from memory past the token\'s exp', async () => {
    const call = gateway();
    const shortLived = await token({ exp: now() + 60 });
    expect((await call(bearer(shortLived))).status).toBe(200);
    const realNow = Date.now();
    // Past exp and past the 5 s of skew the full check allows.
    const clock = vi.spyOn(Date, 'now').mockReturnValue(realNow + 66_000);
    try {
      await refused(await call(bearer(shortLived)));
    } finally {
      clock.mockRestore();
    }
  });

  it('a remembered token whose key the users service no longer publishes is refused', async () => {
    const call = gateway();
    const old = await token();
    expect((await call(bearer(old))).status).toBe(200);
    const next = await generateKeyPair('ES256', { extractable: true });
    jwks = { keys: [{ ...(await exportJWK(next.publicKey)), kid: 'k3', alg: 'ES256' }] };
    const realNow = Date.now();
    const clock = vi.spyOn(Date, 'now').mockReturnValue(realNow + 31_000);
    try {
      // A token under the new key makes the gateway fetch the keys again: k1 is gone.
      expect((await call(bearer(await token({}, { key: next.privateKey, kid: 'k3' })))).status).toBe(200);
      await refused(await call(bearer(old)));
    } finally {
      clock.mockRestore();
      jwks = { keys: [publicJwk] };
    }
  });
});

describe('when the users service fails', () => {
  it('keeps verifying with the keys it has, and asks again once per 30 s, not per request', async () => {
    let attempts = 0;
    let up = true;
    const USERS = { fetch: async () => (attempts++, up ? Response.json(jwks) : new Response('down', { status: 503 })) } as unknown as Fetcher;
    const app: Hono<AppEnv<GatewayBindings>> = createServiceApp<GatewayBindings>({ service: 'gateway' });
    app.get('/who', async (c) => c.json(await callerIdentity(c)));
    const gwEnv = testEnv({ USERS });
    const call = async () => callWorker(app, '/who', { headers: bearer(await token()) }, gwEnv);
    expect((await call()).status).toBe(200);
    up = false;
    const realNow = Date.now();
    const clock = vi.spyOn(Date, 'now').mockReturnValue(realNow + 6 * 60_000); // keys are now stale
    try {
      for (let i = 0; i < 5; i++) expect((await call()).status).toBe(200);
      expect(attempts).toBe(2);
    } finally {
      clock.mockRestore();
    }
  });
});

describe('routes and their auth policy', () => {
  it('the payments route requires a caller', async () => {
    const response = await callWorker((await import('../../../workers/gateway/index')).default, '/api/payments?orderId=x', {}, testEnv({}));
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toMatch(/^Bearer/);
  });
});
