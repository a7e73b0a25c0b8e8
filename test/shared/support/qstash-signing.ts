import { base64url, SignJWT } from 'jose';

export const CURRENT_KEY = 'sig_current_0123456789abcdef';
export const NEXT_KEY = 'sig_next_fedcba9876543210';

export interface SignOptions {
  url: string;
  body: string;
  key?: string;
  /** Epoch seconds the token was made; default now. */
  iat?: number;
  ttlSeconds?: number;
  issuer?: string;
  /** Keep base64url's `=` padding on the body hash (the Receiver ignores it). */
  padded?: boolean;
}

/**
 * An `Upstash-Signature` as QStash makes it (QSTASH.md): a JWT, HS256, keyed with the signing
 * key string's UTF-8 bytes; iss "Upstash", sub the destination URL, body base64url(SHA-256(raw
 * body)), iat/nbf now and exp 5 minutes later, jti "jwt_<random>".
 */
export async function signAsQStash({ url, body, key = CURRENT_KEY, iat = Math.floor(Date.now() / 1000), ttlSeconds = 300, issuer = 'Upstash', padded = false }: SignOptions): Promise<string> {
  const hash = base64url.encode(new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(body))));
  return new SignJWT({ body: padded ? `${hash}=` : hash })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setIssuer(issuer)
    .setSubject(url)
    .setIssuedAt(iat)
    .setNotBefore(iat)
    .setExpirationTime(iat + ttlSeconds)
    .setJti(`jwt_${crypto.randomUUID().replace(/-/g, '')}`)
    .sign(new TextEncoder().encode(key));
}
