// An access token as the users service issues it (docs/api.md: ES256 with its kid, iss, aud, sub,
// 15 minutes, roles): for local runs and tests that call the gateway as any user without logging
// in. Plain jose, nothing of Node's: it runs in workerd tests too.
import { SignJWT } from 'jose';

/**
 * @param {CryptoKey} key the users service's signing key (ES256)
 * @param {string} kid
 * @param {string} userId
 * @param {string[]} [roles]
 * @returns {Promise<string>}
 */
export function signAccessToken(key, kid, userId, roles = ['customer']) {
  return new SignJWT({ roles })
    .setProtectedHeader({ alg: 'ES256', kid, typ: 'JWT' })
    .setIssuer('stratus-users')
    .setAudience('stratus')
    .setSubject(userId)
    .setIssuedAt()
    .setExpirationTime('15m')
    .setJti(crypto.randomUUID())
    .sign(key);
}
