// The first admin account of a new deployment, written straight into the users service's remote
// D1: nobody can register as an admin, and a fresh deployment has no admin to promote anyone.
import { randomBytes, webcrypto } from 'node:crypto';
import { callWrangler } from '../wrangler-cli.mjs';

const base64url = (bytes) => Buffer.from(bytes).toString('base64url');

/**
 * A hash in workers/users/password.ts's format (PBKDF2-SHA-256, 100,000 iterations, a random
 * 16-byte salt, `pbkdf2-sha256$<iterations>$<salt>$<hash>`), made with Node's WebCrypto exactly as
 * the worker makes it; written here because password.ts is TypeScript the deploy scripts cannot load.
 */
export async function hashPassword(password) {
  const salt = randomBytes(16);
  const key = await webcrypto.subtle.importKey('raw', new TextEncoder().encode(password.normalize('NFC')), 'PBKDF2', false, ['deriveBits']);
  const bits = await webcrypto.subtle.deriveBits({ name: 'PBKDF2', hash: 'SHA-256', salt, iterations: 100_000 }, key, 256);
  return `pbkdf2-sha256$100000$${base64url(salt)}$${base64url(new Uint8Array(bits))}`;
}

const sqlString = (value) => `'${String(value).replaceAll("'", "''")}'`;

async function query(usersWorker, env, database, sql) {
  const { stdout } = await callWrangler(['d1', 'execute', database, '--remote', '--json', '--command', sql, '-c', usersWorker.configPath, '--env', env], { capture: true });
  return /** @type {{ results: Record<string, unknown>[] }[]} */ (JSON.parse(stdout)).flatMap((r) => r.results ?? []);
}

/**
 * Creates the admin `email` unless it exists. The password is `password` when given, else a new
 * random one; it is returned only when the account was created (shown once, never stored here).
 * @returns {Promise<{ created: boolean, password?: string }>}
 */
export async function ensureFirstAdmin({ usersWorker, env, email, password }) {
  const normalised = email.trim().toLowerCase();
  const database = usersWorker.d1[0].database_name;
  const existing = await query(usersWorker, env, database, `SELECT id FROM users WHERE email = ${sqlString(normalised)}`);
  if (existing.length > 0) return { created: false };
  const chosen = password || randomBytes(18).toString('base64url');
  if (chosen.length < 12) throw new Error('STRATUS_ADMIN_PASSWORD must be at least 12 characters (the users service refuses shorter ones)');
  const id = `usr_${randomBytes(16).toString('hex')}`;
  await query(usersWorker, env, database, `INSERT INTO users (id, email, name, password_hash, roles) VALUES (${sqlString(id)}, ${sqlString(normalised)}, 'Admin', ${sqlString(await hashPassword(chosen))}, '["customer","admin"]')`);
  return { created: true, password: password ? undefined : chosen };
}
