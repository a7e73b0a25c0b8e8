import { SignJWT, UnsecuredJWT, type JWK } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import { generateSigningKeyPair } from '../../../scripts/dev-keys.mjs';
import {
  ORDERS_SERVICE_TOKEN_ISSUER,
  ServiceTokenSigner,
  ServiceTokenVerifier,
  SERVICE_TOKEN_ISSUER,
  trustedIssuers,
} from '../../../shared/security/service-token';

let gateway: { privateJwk: JWK; publicJwk: JWK };
let intruder: { privateJwk: JWK; publicJwk: JWK };

beforeAll(async () => {
  gateway = await generateSigningKeyPair('gw-1');
  intruder = await generateSigningKeyPair('gw-1'); // same kid, different key
});

const claims = { service: 'catalog', userId: 'u1', roles: ['admin'], requestId: 'r-1' };
const failure = (promise: Promise<unknown>) => promise.then(() => 'verified', (error: Error) => error.name);

describe('service tokens', () => {
  it('round-trips the service, user, roles, request id and scope', async () => {
    const token = await new ServiceTokenSigner(gateway.privateJwk).sign({ ...claims, scope: 'ops' });
    expect(await new ServiceTokenVerifier([gateway.publicJwk], 'catalog').verify(token)).toEqual({ ...claims, issuer: SERVICE_TOKEN_ISSUER, scope: 'ops' });
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
