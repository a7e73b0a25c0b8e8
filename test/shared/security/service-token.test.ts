import { decodeJwt, SignJWT, UnsecuredJWT, type JWK } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import { generateSigningKeyPair } from '../../../scripts/dev-keys.mjs';
import {
  ORDERS_SERVICE_TOKEN_ISSUER,
  SERVICE_TOKEN_CACHE_ENTRIES,
  SERVICE_TOKEN_REUSE_SECONDS,
  ServiceTokenSigner,
  ServiceTokenVerifier,
  SERVICE_TOKEN_ISSUER,
  trustedIssuers,
  type ServiceClaims,
} from '../../../shared/security/service-token';

let gateway: { privateJwk: JWK; publicJwk: JWK };
let intruder: { privateJwk: JWK; publicJwk: JWK };

beforeAll(async () => {
  gateway = await generateSigningKeyPair('gw-1');
  intruder = await generateSigningKeyPair('gw-1'); // same kid, different key
});

const claims = { service: 'catalog', userId: 'u1', roles: ['admin'] };
const failure = (promise: Promise<unknown>) => promise.then(() => 'verified', (error: Error) => error.name);

describe('service tokens', () => {
  it('round-trips the service, user, roles and scope; no request id rides in it (x-request-id carries that)', async () => {
    const token = await new ServiceTokenSigner(gateway.privateJwk).sign({ ...claims, scope: 'ops' });
    expect(await new ServiceTokenVerifier([gateway.publicJwk], 'catalog').verify(token)).toEqual({ ...claims, issuer: SERVICE_TOKEN_ISSUER, scope: 'ops' });
    expect(Object.keys(decodeJwt(token)).sort()).toEqual(['aud', 'exp', 'iat', 'iss', 'roles', 'scope', 'sub']);
  });

  it('carries the flags on for the caller, and a caller whose flags change gets a new token at once', async () => {
    const signer = new ServiceTokenSigner(gateway.privateJwk);
    const verifier = new ServiceTokenVerifier([gateway.publicJwk], 'catalog');
    const withFlag = await signer.sign({ ...claims, flags: ['new-checkout'] });
    expect(await verifier.verify(withFlag)).toEqual({ ...claims, issuer: SERVICE_TOKEN_ISSUER, flags: ['new-checkout'] });
    // Reused for the same flags, a new one for others (the cache key holds them); none: no claim at all.
    expect(await signer.sign({ ...claims, flags: ['new-checkout'] })).toBe(withFlag);
    const without = await signer.sign({ ...claims, flags: [] });
    expect(without).not.toBe(withFlag);
    expect(decodeJwt(without).flags).toBeUndefined();
    expect((await verifier.verify(without)).flags).toBeUndefined();
  });

  it('is for one service only: another service refuses it', async () => {
    const token = await new ServiceTokenSigner(gateway.privateJwk).sign(claims);
    expect(await failure(new ServiceTokenVerifier([gateway.publicJwk], 'payments').verify(token))).toBe('ServiceTokenError');
  });

  it('lives 60 seconds (plus 5 s of clock skew)', async () => {
    const now = Date.UTC(2026, 10, 23, 12);
    const token = await new ServiceTokenSigner(gateway.privateJwk).sign(claims, now);
    const verifier = new ServiceTokenVerifier([gateway.publicJwk], 'catalog');
    expect((await verifier.verify(token, now + 64_000)).userId).toBe('u1');
    expect(await failure(verifier.verify(token, now + 66_000))).toBe('ServiceTokenError');
  });

  it('refuses a token signed by any other key, unsigned, or with another algorithm', async () => {
    const verifier = new ServiceTokenVerifier([gateway.publicJwk], 'catalog');
    const forged = await new ServiceTokenSigner(intruder.privateJwk).sign(claims);
    expect(await failure(verifier.verify(forged))).toBe('ServiceTokenError');
    const unsecured = new UnsecuredJWT({ roles: ['admin'], rid: 'r' }).setIssuer(SERVICE_TOKEN_ISSUER).setAudience('catalog').setIssuedAt().setExpirationTime('1m').encode();
    expect(await failure(verifier.verify(unsecured))).toBe('ServiceTokenError');
    const hs256 = await new SignJWT({ roles: ['admin'] })
      .setProtectedHeader({ alg: 'HS256', kid: 'gw-1' })
      .setIssuer(SERVICE_TOKEN_ISSUER)
      .setAudience('catalog')
      .setIssuedAt()
      .setExpirationTime('1m')
      .sign(new TextEncoder().encode('a-secret-long-enough-for-hs256-xx'));
    expect(await failure(verifier.verify(hs256))).toBe('ServiceTokenError');
  });

  it('accepts either key during a rotation', async () => {
    const next = await generateSigningKeyPair('gw-2');
    const verifier = new ServiceTokenVerifier([gateway.publicJwk, next.publicJwk], 'catalog');
    expect((await verifier.verify(await new ServiceTokenSigner(gateway.privateJwk).sign(claims))).roles).toEqual(['admin']);
    expect((await verifier.verify(await new ServiceTokenSigner(next.privateJwk).sign(claims))).roles).toEqual(['admin']);
  });

  it('binds each key to its issuer: the orders key signs as orders, never as the gateway', async () => {
    const orders = await generateSigningKeyPair('orders-1');
    const verifier = new ServiceTokenVerifier(
      trustedIssuers({ [SERVICE_TOKEN_ISSUER]: [gateway.publicJwk], [ORDERS_SERVICE_TOKEN_ISSUER]: [orders.publicJwk] }),
      'catalog',
    );
    const asOrders = await new ServiceTokenSigner(orders.privateJwk, ORDERS_SERVICE_TOKEN_ISSUER).sign(claims);
    expect((await verifier.verify(asOrders)).issuer).toBe(ORDERS_SERVICE_TOKEN_ISSUER);
    // The orders key claiming to be the gateway is tried against the gateway's keys only.
    const impostor = await new ServiceTokenSigner(orders.privateJwk, SERVICE_TOKEN_ISSUER).sign(claims);
    expect(await failure(verifier.verify(impostor))).toBe('ServiceTokenError');
    // An issuer nobody configured is refused before any key is tried.
    const stranger = await new ServiceTokenSigner(orders.privateJwk, 'stratus-stranger').sign(claims);
    expect(await failure(verifier.verify(stranger))).toBe('ServiceTokenError');
  });

  it('reads a bare key list as the gateway\'s keys (the configuration before other issuers existed)', () => {
    expect(Object.keys(trustedIssuers([gateway.publicJwk]))).toEqual([SERVICE_TOKEN_ISSUER]);
    expect(Object.keys(trustedIssuers(gateway.publicJwk))).toEqual([SERVICE_TOKEN_ISSUER]);
  });
});

describe('service tokens: crypto off the hot path', () => {
  const t0 = Date.UTC(2026, 10, 23, 12); // a whole second: iat is t0 / 1000

  it('a signer hands out the same token for the same claims within the reuse bound, and signs anew after it', async () => {
    const signer = new ServiceTokenSigner(gateway.privateJwk);
    const first = await signer.sign(claims, t0);
    expect(await signer.sign({ ...claims, roles: ['admin'] }, t0 + SERVICE_TOKEN_REUSE_SECONDS * 1000 - 1)).toBe(first);
    const next = await signer.sign(claims, t0 + SERVICE_TOKEN_REUSE_SECONDS * 1000);
    expect(next).not.toBe(first);
    expect(decodeJwt(next).iat).toBe(t0 / 1000 + SERVICE_TOKEN_REUSE_SECONDS);
    // So a token handed out has at least TTL - reuse seconds left.
    expect(decodeJwt(first).exp! - (t0 / 1000 + SERVICE_TOKEN_REUSE_SECONDS)).toBeGreaterThanOrEqual(30);
  });

  it('signs anew when the clock has stepped back before a remembered token\'s iat (the services would refuse its future iat)', async () => {
    const signer = new ServiceTokenSigner(gateway.privateJwk);
    const ahead = await signer.sign(claims, t0 + 6 * 60_000);
    const now = await signer.sign(claims, t0);
    expect(now).not.toBe(ahead);
    expect(decodeJwt(now).iat).toBe(t0 / 1000);
    const verifier = new ServiceTokenVerifier([gateway.publicJwk], 'catalog');
    expect(await failure(verifier.verify(ahead, t0))).toBe('ServiceTokenError');
    expect((await verifier.verify(now, t0)).userId).toBe('u1');
  });

  it('never reuses a token across audiences, users, roles or scope', async () => {
    const signer = new ServiceTokenSigner(gateway.privateJwk);
    const variants: ServiceClaims[] = [
      claims,
      { ...claims, service: 'payments' },
      { ...claims, userId: 'u2' },
      { ...claims, userId: undefined },
      { ...claims, roles: ['customer'] },
      { ...claims, roles: ['admin', 'customer'] },
      { ...claims, roles: [] },
      { ...claims, scope: 'ops' as const },
    ];
    const tokens = [];
    for (const variant of variants) tokens.push(await signer.sign(variant, t0));
    expect(new Set(tokens).size).toBe(variants.length);
    // Each says exactly what was asked for.
    for (const [i, variant] of variants.entries()) {
      const payload = decodeJwt(tokens[i]!);
      expect([payload.aud, payload.sub, payload.roles, payload.scope]).toEqual([variant.service, variant.userId, variant.roles, variant.scope]);
    }
  });

  it('a verifier remembers a token it verified until it expires, and never accepts an expired one from memory', async () => {
    const token = await new ServiceTokenSigner(gateway.privateJwk).sign(claims, t0);
    const verifier = new ServiceTokenVerifier([gateway.publicJwk], 'catalog');
    expect((await verifier.verify(token, t0)).userId).toBe('u1'); // verified, remembered
    expect((await verifier.verify(token, t0 + 59_999)).userId).toBe('u1'); // from memory
    // Past its exp: neither memory nor the full check (past the 5 s skew) takes it.
    expect(await failure(verifier.verify(token, t0 + 66_000))).toBe('ServiceTokenError');
  });

  it('a tampered token never matches a remembered one: the key is the full token text', async () => {
    const verifier = new ServiceTokenVerifier([gateway.publicJwk], 'catalog');
    const token = await new ServiceTokenSigner(gateway.privateJwk).sign({ ...claims, roles: ['customer'] });
    await verifier.verify(token);
    const [head, body, signature] = token.split('.');
    const payload = { ...JSON.parse(atob(body!.replace(/-/g, '+').replace(/_/g, '/'))), roles: ['admin'] };
    const elevated = btoa(JSON.stringify(payload)).replace(/=+$/, '').replace(/\+/g, '-').replace(/\//g, '_');
    expect(await failure(verifier.verify(`${head}.${elevated}.${signature}`))).toBe('ServiceTokenError');
    const flipped = signature!.slice(0, -2) + (signature!.at(-2) === 'A' ? 'B' : 'A') + signature!.at(-1);
    expect(await failure(verifier.verify(`${head}.${body}.${flipped}`))).toBe('ServiceTokenError');
    // Another service's verifier never sees this one's memory.
    expect(await failure(new ServiceTokenVerifier([gateway.publicJwk], 'payments').verify(token))).toBe('ServiceTokenError');
  });

  it('a remembered answer is a copy: changing it changes nothing for the next caller', async () => {
    const verifier = new ServiceTokenVerifier([gateway.publicJwk], 'catalog');
    const token = await new ServiceTokenSigner(gateway.privateJwk).sign(claims);
    (await verifier.verify(token)).roles.push('root');
    expect((await verifier.verify(token)).roles).toEqual(['admin']);
  });

  it('the signer\'s memory is bounded: past SERVICE_TOKEN_CACHE_ENTRIES claim sets, the least recently used is signed anew', async () => {
    const signer = new ServiceTokenSigner(gateway.privateJwk);
    const first = await signer.sign({ ...claims, userId: 'u-0' }, t0);
    for (let i = 1; i <= SERVICE_TOKEN_CACHE_ENTRIES; i++) await signer.sign({ ...claims, userId: `u-${i}` }, t0);
    // A second later, still inside the reuse window: a remembered token comes back as it was, one
    // signed anew carries the new iat. (Not "ECDSA signatures differ": Deno signs deterministically.)
    const later = t0 + 1_000;
    const recent = await signer.sign({ ...claims, userId: `u-${SERVICE_TOKEN_CACHE_ENTRIES}` }, t0);
    expect(await signer.sign({ ...claims, userId: 'u-0' }, later)).not.toBe(first);
    expect(await signer.sign({ ...claims, userId: `u-${SERVICE_TOKEN_CACHE_ENTRIES}` }, later)).toBe(recent);
  });
});
