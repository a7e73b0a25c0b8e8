import { env } from 'cloudflare:workers';
import { beforeEach, describe, expect, it } from 'vitest';
import {
  DUMMY_PASSWORD_HASH,
  hashPassword,
  MAX_PBKDF2_ITERATIONS,
  needsRehash,
  parsePasswordHash,
  PBKDF2_ITERATIONS,
  verifyPassword,
} from '../../../workers/users/password';
import { login, PASSWORD, register, resetDatabase } from './support';

const FORMAT = /^pbkdf2-sha256\$100000\$[A-Za-z0-9_-]{22}\$[A-Za-z0-9_-]{43}$/;

describe('password hashes', () => {
  it('are self-describing: algorithm, 100,000 iterations, a 16-byte salt and a 32-byte hash', async () => {
    expect(PBKDF2_ITERATIONS).toBe(100_000);
    const stored = await hashPassword(PASSWORD);
    expect(stored).toMatch(FORMAT);
    const parsed = parsePasswordHash(stored);
    expect(parsed?.iterations).toBe(100_000);
    expect(parsed?.salt).toHaveLength(16);
    expect(parsed?.hash).toHaveLength(32);
  });

  it('salt every hash: the same password twice gives two different hashes, both verifying', async () => {
    const [a, b] = await Promise.all([hashPassword(PASSWORD), hashPassword(PASSWORD)]);
    expect(a).not.toBe(b);
    expect(await verifyPassword(PASSWORD, a!)).toBe(true);
    expect(await verifyPassword(PASSWORD, b!)).toBe(true);
  });

  it('verify only the right password', async () => {
    const stored = await hashPassword(PASSWORD);
    for (const wrong of ['', 'correct horse battery ', 'Correct horse battery', 'correct horse batter']) {
      expect(await verifyPassword(wrong, stored)).toBe(false);
    }
  });

  it('treat the composed and decomposed forms of an accented password as one (NFC)', async () => {
    const stored = await hashPassword('café au lait 1234');
    expect(await verifyPassword('cafe\u0301 au lait 1234', stored)).toBe(true);
  });

  it('verify with the iterations stored in the hash, and flag older ones for an upgrade', async () => {
    const older = await hashPassword(PASSWORD, 50_000);
    expect(older.startsWith('pbkdf2-sha256$50000$')).toBe(true);
    expect(await verifyPassword(PASSWORD, older)).toBe(true);
    expect(needsRehash(older)).toBe(true);
    expect(needsRehash(await hashPassword(PASSWORD))).toBe(false);
  });

  it('never go past the Workers runtime cap of 100,000 iterations (local workerd does not enforce it)', async () => {
    expect(MAX_PBKDF2_ITERATIONS).toBe(100_000);
    await expect(hashPassword(PASSWORD, 100_001)).rejects.toThrow(/iterations/);
    const stored = await hashPassword(PASSWORD);
    const tooMany = stored.replace('$100000$', '$600000$');
    expect(parsePasswordHash(tooMany)).toBeNull();
    await expect(verifyPassword(PASSWORD, tooMany)).rejects.toThrow(/format/);
  });

  it.each([
    ['another algorithm', 'bcrypt$12$abc$def'],
    ['no iterations', 'pbkdf2-sha256$$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'],
    ['a short hash', 'pbkdf2-sha256$100000$AAAAAAAAAAAAAAAAAAAAAA$AAAA'],
    ['the password itself', PASSWORD],
  ])('refuse to verify against %s', async (_, stored) => {
    await expect(verifyPassword(PASSWORD, stored)).rejects.toThrow(/format/);
  });

  it('the dummy hash for unknown emails has today\'s parameters, so it costs what a real one does, and matches nothing', async () => {
    expect(DUMMY_PASSWORD_HASH).toMatch(FORMAT);
    expect(await verifyPassword(PASSWORD, DUMMY_PASSWORD_HASH)).toBe(false);
    expect(await verifyPassword('', DUMMY_PASSWORD_HASH)).toBe(false);
  });
});

describe('what a registration stores', () => {
  beforeEach(resetDatabase);

  it('a hash in that format, which is not the password and does not contain it, and verifies', async () => {
    await register('ann@example.com');
    const stored = await env.DB.prepare('SELECT password_hash FROM users').first<string>('password_hash');
    expect(stored).toMatch(FORMAT);
    expect(stored).not.toContain(PASSWORD);
    expect(await verifyPassword(PASSWORD, stored!)).toBe(true);
  });

  it('a hash made with fewer iterations is upgraded at the next successful login', async () => {
    await register('ann@example.com');
    await env.DB.prepare('UPDATE users SET password_hash = ?').bind(await hashPassword(PASSWORD, 10_000)).run();
    expect((await login('ann@example.com')).status).toBe(200);
    const stored = await env.DB.prepare('SELECT password_hash FROM users').first<string>('password_hash');
    expect(stored).toMatch(FORMAT);
    expect((await login('ann@example.com')).status).toBe(200);
  });
});

describe('the database itself refuses impossible rows', () => {
  beforeEach(resetDatabase);
  const insertUser = (email: string, hash: string, roles: string) =>
    env.DB.prepare('INSERT INTO users (id, email, password_hash, roles) VALUES (?, ?, ?, ?)').bind(`usr_${crypto.randomUUID()}`, email, hash, roles).run();

  it.each([
    ['an email not lower-cased', 'Ann@example.com', 'pbkdf2-sha256$1$a$b', '[]'],
    ['an email with spaces around it', ' ann@example.com', 'pbkdf2-sha256$1$a$b', '[]'],
    ['a plain-text password', 'ann@example.com', PASSWORD, '[]'],
    ['roles that are not a JSON array', 'ann@example.com', 'pbkdf2-sha256$1$a$b', '"admin"'],
  ])('%s', async (_, email, hash, roles) => {
    await expect(insertUser(email, hash, roles)).rejects.toThrow(/CHECK constraint failed/);
  });

  it('a second account with the same email', async () => {
    await insertUser('ann@example.com', 'pbkdf2-sha256$1$a$b', '[]');
    await expect(insertUser('ann@example.com', 'pbkdf2-sha256$1$a$b', '[]')).rejects.toThrow(/UNIQUE constraint failed/);
  });

  it('a refresh token stored in the clear', async () => {
    const { id } = await register('ann@example.com');
    await env.DB.prepare("INSERT INTO refresh_families (id, user_id) VALUES ('f1', ?)").bind(id).run();
    await expect(
      env.DB.prepare("INSERT INTO refresh_tokens (id, family_id, token_hash, expires_at) VALUES ('t1', 'f1', ?, 0)").bind('A'.repeat(43)).run(),
    ).rejects.toThrow(/CHECK constraint failed/);
  });
});
