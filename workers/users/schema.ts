import { sql } from 'drizzle-orm';
import { check, index, integer, sqliteTable, text, uniqueIndex } from 'drizzle-orm/sqlite-core';

/**
 * The users service's own database (one D1 per service). The CHECKs make the database itself
 * refuse rows no code path should write: an email that is not stored normalised, roles that are
 * not a JSON array, a password hash in an unknown format, a refresh token stored in the clear.
 */

const now = sql`(strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))`;

export const users = sqliteTable(
  'users',
  {
    id: text('id').primaryKey(),
    /** Trimmed and lower-cased before it is stored; the UNIQUE index decides who registered first. */
    email: text('email').notNull(),
    name: text('name'),
    /** Self-describing: `pbkdf2-sha256$<iterations>$<salt>$<hash>` (password.ts). Never the password. */
    passwordHash: text('password_hash').notNull(),
    /** JSON array of role names, e.g. `["customer"]`. */
    roles: text('roles', { mode: 'json' }).$type<string[]>().notNull(),
    createdAt: text('created_at').notNull().default(now),
    updatedAt: text('updated_at').notNull().default(now),
  },
  (table) => [
    uniqueIndex('users_email_uq').on(table.email),
    check('users_email_normalised', sql`${table.email} = lower(trim(${table.email})) AND length(${table.email}) BETWEEN 3 AND 254`),
    check('users_roles_array', sql`json_valid(${table.roles}) AND json_type(${table.roles}) = 'array'`),
    check('users_password_hash_format', sql`${table.passwordHash} GLOB 'pbkdf2-sha256$*$*$*'`),
  ],
);

/**
 * A login session: every refresh token issued from one login belongs to one family. Reusing a
 * spent token revokes the family, so a stolen token and the legitimate one die together.
 */
export const refreshFamilies = sqliteTable(
  'refresh_families',
  {
    id: text('id').primaryKey(),
    userId: text('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    createdAt: text('created_at').notNull().default(now),
    revokedAt: text('revoked_at'),
    /** Why it was revoked: the user logged out, or a spent token was presented again. */
    revokedReason: text('revoked_reason', { enum: ['logout', 'reuse'] }),
  },
  (table) => [
    index('refresh_families_user_idx').on(table.userId),
    check('refresh_families_revocation_shape', sql`(${table.revokedAt} IS NULL) = (${table.revokedReason} IS NULL)`),
    check('refresh_families_reason_known', sql`${table.revokedReason} IS NULL OR ${table.revokedReason} IN ('logout', 'reuse')`),
  ],
);

export const refreshTokens = sqliteTable(
  'refresh_tokens',
  {
    id: text('id').primaryKey(),
    familyId: text('family_id')
      .notNull()
      .references(() => refreshFamilies.id, { onDelete: 'cascade' }),
    /** SHA-256 of the token, hex: the token itself is never stored. */
    tokenHash: text('token_hash').notNull(),
    /** Epoch milliseconds; compared with the caller's clock in the spending UPDATE. */
    expiresAt: integer('expires_at').notNull(),
    createdAt: text('created_at').notNull().default(now),
    /** Set once, by the one UPDATE that spends the token. */
    spentAt: text('spent_at'),
    /** The token issued in its place: the spending UPDATE writes it, the INSERT of that token finds it. */
    replacedBy: text('replaced_by'),
  },
  (table) => [
    uniqueIndex('refresh_tokens_hash_uq').on(table.tokenHash),
    index('refresh_tokens_family_idx').on(table.familyId),
    uniqueIndex('refresh_tokens_replaced_by_uq').on(table.replacedBy),
    check('refresh_tokens_hash_hex', sql`length(${table.tokenHash}) = 64 AND ${table.tokenHash} NOT GLOB '*[^0-9a-f]*'`),
    // A token is spent only by being replaced (logout revokes the family instead).
    check('refresh_tokens_spent_shape', sql`(${table.spentAt} IS NULL) = (${table.replacedBy} IS NULL)`),
  ],
);

/**
 * Login rate-limit counters, one row per key (`ip:<address>` or `account:<email>`), each a fixed
 * window that starts at the key's first attempt. Rows are only ever changed by one atomic upsert.
 */
export const loginAttempts = sqliteTable(
  'login_attempts',
  {
    key: text('key').primaryKey(),
    /** Epoch milliseconds at which the current window began. */
    windowStart: integer('window_start').notNull(),
    count: integer('count').notNull(),
  },
  (table) => [index('login_attempts_window_idx').on(table.windowStart), check('login_attempts_count_positive', sql`${table.count} > 0`)],
);

export type UserRow = typeof users.$inferSelect;
export type NewUserRow = typeof users.$inferInsert;
