import { encodeBase64Url } from 'hono/utils/encode';

/** A refresh token lives 30 days from its issue; every use replaces it with a new one. */
export const REFRESH_TOKEN_TTL_MS = 30 * 24 * 60 * 60 * 1000;
const TOKEN_BYTES = 32;

/**
 * SHA-256 of a token, hex: what the database keeps. A refresh token is 256 random bits, so an
 * unsalted fast hash is enough (nothing to brute-force), and it lets a token be found by its hash.
 */
export async function hashRefreshToken(token: string): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(token)));
  return Array.from(digest, (b) => b.toString(16).padStart(2, '0')).join('');
}

export interface NewRefreshToken {
  id: string;
  /** Handed to the client once; never stored, never logged. */
  token: string;
  hash: string;
  expiresAt: number;
}

/** A fresh refresh token: 32 random bytes, base64url without padding (43 characters). */
export async function newRefreshToken(nowMs: number): Promise<NewRefreshToken> {
  const token = encodeBase64Url(crypto.getRandomValues(new Uint8Array(TOKEN_BYTES)).buffer).replace(/=+$/, '');
  return { id: `rt_${crypto.randomUUID().replace(/-/g, '')}`, token, hash: await hashRefreshToken(token), expiresAt: nowMs + REFRESH_TOKEN_TTL_MS };
}
