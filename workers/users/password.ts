import { decodeBase64Url, encodeBase64Url } from 'hono/utils/encode';
import { secretsEqual } from '../../shared/security/constant-time';

/**
 * Password hashing: PBKDF2-HMAC-SHA-256 through WebCrypto (the only password KDF a Worker has
 * without shipping WASM), a random 16-byte salt per password, stored as one self-describing
 * string so the parameters can change later without breaking stored hashes:
 *
 *     pbkdf2-sha256$<iterations>$<salt, base64url>$<derived 32 bytes, base64url>
 *
 * Why exactly 100,000 iterations: Cloudflare's runtime refuses PBKDF2 above 100,000
 * ("iteration counts above 100000 are not supported"; workerd's checkPbkdfLimits,
 * cloudflare/workerd#1346). OWASP asks 600,000 for SHA-256; 100,000 is the most a Worker may do.
 * Local workerd (miniflare, tests) does NOT enforce that cap (600,000 runs there), so a higher
 * value would pass every test and fail only once deployed: MAX_PBKDF2_ITERATIONS guards it here.
 * Raise PBKDF2_ITERATIONS when the platform allows; hashes then upgrade on the next login.
 */
export const PASSWORD_HASH_ALGORITHM = 'pbkdf2-sha256';
export const PBKDF2_ITERATIONS = 100_000;
export const MAX_PBKDF2_ITERATIONS = 100_000;
const SALT_BYTES = 16;
const HASH_BYTES = 32;

export interface PasswordHash {
  algorithm: typeof PASSWORD_HASH_ALGORITHM;
  iterations: number;
  salt: Uint8Array<ArrayBuffer>;
  hash: Uint8Array<ArrayBuffer>;
}

const base64url = (bytes: Uint8Array<ArrayBuffer>) => encodeBase64Url(bytes.buffer).replace(/=+$/, '');

/**
 * Passwords are compared as NFC Unicode, so "é" typed as one code point or as "e" plus an accent
 * (keyboards and platforms differ) is the same password.
 */
const passwordBytes = (password: string) => new TextEncoder().encode(password.normalize('NFC'));

async function derive(password: string, salt: Uint8Array<ArrayBuffer>, iterations: number): Promise<Uint8Array<ArrayBuffer>> {
  if (!Number.isSafeInteger(iterations) || iterations < 1 || iterations > MAX_PBKDF2_ITERATIONS) {
    throw new Error(`PBKDF2 iterations must be 1 to ${MAX_PBKDF2_ITERATIONS} (the Workers runtime's limit)`);
  }
  const key = await crypto.subtle.importKey('raw', passwordBytes(password), 'PBKDF2', false, ['deriveBits']);
  const bits = await crypto.subtle.deriveBits({ name: 'PBKDF2', hash: 'SHA-256', salt, iterations }, key, HASH_BYTES * 8);
  return new Uint8Array(bits);
}

export const formatPasswordHash = ({ algorithm, iterations, salt, hash }: PasswordHash): string =>
  `${algorithm}$${iterations}$${base64url(salt)}$${base64url(hash)}`;

/** The parts of a stored hash, or null if it is not in a format this code can verify. */
export function parsePasswordHash(stored: string): PasswordHash | null {
  const match = /^pbkdf2-sha256\$([1-9][0-9]{0,8})\$([A-Za-z0-9_-]+)\$([A-Za-z0-9_-]+)$/.exec(stored);
  if (!match?.[1] || !match[2] || !match[3]) return null;
  const iterations = Number(match[1]);
  if (iterations > MAX_PBKDF2_ITERATIONS) return null;
  try {
    const salt = decodeBase64Url(match[2]);
    const hash = decodeBase64Url(match[3]);
    if (salt.length < SALT_BYTES || hash.length !== HASH_BYTES) return null;
    return { algorithm: PASSWORD_HASH_ALGORITHM, iterations, salt, hash };
  } catch {
    return null;
  }
}

/** A new hash of `password` with a fresh random salt. */
export async function hashPassword(password: string, iterations = PBKDF2_ITERATIONS): Promise<string> {
  const salt = crypto.getRandomValues(new Uint8Array(SALT_BYTES));
  return formatPasswordHash({ algorithm: PASSWORD_HASH_ALGORITHM, iterations, salt, hash: await derive(password, salt, iterations) });
}

/**
 * Whether `password` matches `stored`, with the stored hash's own parameters. The comparison
 * takes the same time however much of the hash matches (secretsEqual). A stored hash this code
 * cannot read throws: a corrupt row is a loud 500 in the logs, not a silent lock-out.
 */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const parsed = parsePasswordHash(stored);
  if (!parsed) throw new Error('stored password hash is not in a known format');
  const candidate = await derive(password, parsed.salt, parsed.iterations);
  return secretsEqual(base64url(candidate), base64url(parsed.hash));
}

/** Whether a stored hash was made with weaker parameters than today's: re-hash it at the next login. */
export function needsRehash(stored: string): boolean {
  const parsed = parsePasswordHash(stored);
  return !parsed || parsed.iterations < PBKDF2_ITERATIONS;
}

/**
 * What a login for an unknown email is verified against: a well-formed hash with today's
 * parameters, so it costs the same PBKDF2 work as a wrong password, that no password matches in
 * practice (its 32 derived bytes are all zero). A constant rather than a hash made on first use:
 * making one would cost a second PBKDF2 on an isolate's first unknown-email login, a timing tell.
 */
export const DUMMY_PASSWORD_HASH = formatPasswordHash({
  algorithm: PASSWORD_HASH_ALGORITHM,
  iterations: PBKDF2_ITERATIONS,
  salt: new Uint8Array(SALT_BYTES),
  hash: new Uint8Array(HASH_BYTES),
});
