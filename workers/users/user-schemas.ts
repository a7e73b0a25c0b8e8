import { z } from 'zod';
import type { UserRow } from './schema';

/** Passwords: at least 12 characters (docs/api.md); at most 256, so hashing cost stays bounded. */
export const MIN_PASSWORD_LENGTH = 12;
export const MAX_PASSWORD_LENGTH = 256;

/** Emails are compared and stored trimmed and lower-cased: `Ann@Example.com` is `ann@example.com`. */
export const normaliseEmail = (email: string) => email.trim().toLowerCase();

const email = z
  .string()
  .transform(normaliseEmail)
  .pipe(z.email({ error: 'must be an email address' }).max(254, 'must be at most 254 characters'));

export const registerInput = z
  .object({
    email,
    password: z
      .string()
      .min(MIN_PASSWORD_LENGTH, `must be at least ${MIN_PASSWORD_LENGTH} characters`)
      .max(MAX_PASSWORD_LENGTH, `must be at most ${MAX_PASSWORD_LENGTH} characters`),
    name: z.string().trim().min(1).max(100).optional(),
  })
  .strict();

/**
 * Login checks only shape, not the registration rules: an address that could never have been
 * registered is simply a wrong login (401), not a hint about the rules (400).
 */
export const loginInput = z
  .object({
    email: z.string().min(1).max(320).transform(normaliseEmail),
    password: z.string().min(1).max(MAX_PASSWORD_LENGTH),
  })
  .strict();

export const refreshInput = z.object({ refreshToken: z.string().min(1).max(512) }).strict();

export type RegisterInput = z.infer<typeof registerInput>;

/** docs/api.md's login and refresh answer. */
export interface TokenPair {
  accessToken: string;
  refreshToken: string;
  tokenType: 'Bearer';
  /** Seconds the access token is valid for. */
  expiresIn: number;
}

/** The profile as GET /me shows it: never the password hash. */
export interface Profile {
  id: string;
  email: string;
  name: string | null;
  roles: string[];
  createdAt: string;
}

export const toProfile = (row: UserRow): Profile => ({
  id: row.id,
  email: row.email,
  name: row.name,
  roles: row.roles,
  createdAt: row.createdAt,
});
