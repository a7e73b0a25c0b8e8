import { SignJWT, UnsecuredJWT, type JWK } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import { generateSigningKeyPair } from '../../../scripts/dev-keys.mjs';
import { ServiceTokenSigner, ServiceTokenVerifier, SERVICE_TOKEN_ISSUER } from '../../../shared/security/service-token';

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
    expect(await new ServiceTokenVerifier([gateway.publicJwk], 'catalog').verify(token)).toEqual({ ...claims, scope: 'ops' });
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
});
