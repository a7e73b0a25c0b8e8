// Delivery signatures exactly as QStash makes them, so the official Receiver (and anything that
// verifies as it does) accepts ours: a JWT, HS256, whose HMAC key is the signing-key string's
// UTF-8 bytes; iss "Upstash", sub the destination URL, iat/nbf now, exp five minutes on, a jti,
// and `body` = base64url(SHA-256(raw body)).
import { createHash, randomBytes } from 'node:crypto';
import { SignJWT } from 'jose';

const TOKEN_LIFETIME_SECONDS = 5 * 60;
const encoder = new TextEncoder();

/**
 * base64url of the body's SHA-256 WITH its '=' padding, as Go's base64.URLEncoding writes it; the
 * Receiver strips trailing '=' on both sides before comparing, so padded and unpadded both verify,
 * and sending the padded form keeps consumers honest about that.
 */
export function bodyHash(body) {
  const hash = createHash('sha256').update(body ?? Buffer.alloc(0)).digest('base64url');
  return hash.padEnd(Math.ceil(hash.length / 4) * 4, '=');
}

/** The Upstash-Signature header for one delivery attempt of `body` to `url`. */
export async function signDelivery({ signingKey, url, body, now = Date.now() }) {
  const seconds = Math.floor(now / 1000);
  return new SignJWT({ body: bodyHash(body) })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setIssuer('Upstash')
    .setSubject(url)
    .setIssuedAt(seconds)
    .setNotBefore(seconds)
    .setExpirationTime(seconds + TOKEN_LIFETIME_SECONDS)
    .setJti(`jwt_${randomBytes(16).toString('hex')}`)
    .sign(encoder.encode(signingKey));
}

const KEY_ALPHABET = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz';

/** A fresh signing key shaped like QStash's (sig_ + 28 base58 characters), for key rotation. */
export function randomSigningKey() {
  return `sig_${[...randomBytes(28)].map((byte) => KEY_ALPHABET[byte % KEY_ALPHABET.length]).join('')}`;
}
