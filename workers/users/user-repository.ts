import { eq, sql } from 'drizzle-orm';
import type { DrizzleD1Database } from 'drizzle-orm/d1';
import { users, type NewUserRow, type UserRow } from './schema';

/** Accounts in the users D1. */
export class UserRepository {
  constructor(private readonly db: DrizzleD1Database) {}

  /**
   * The new user, or undefined when the email is taken. The UNIQUE index on the (normalised)
   * email decides, inside SQLite, so two concurrent registrations cannot both win: there is no
   * read before this write.
   */
  async insert(row: NewUserRow): Promise<UserRow | undefined> {
    const [inserted] = await this.db.insert(users).values(row).onConflictDoNothing({ target: users.email }).returning();
    return inserted;
  }

  async get(id: string): Promise<UserRow | undefined> {
    return this.db.select().from(users).where(eq(users.id, id)).get();
  }

  /** `email` must already be normalised (user-schemas.ts). */
  async byEmail(email: string): Promise<UserRow | undefined> {
    return this.db.select().from(users).where(eq(users.email, email)).get();
  }

  /** Replaces a hash made with older parameters, only if it is still the one that was verified. */
  async upgradePasswordHash(id: string, verified: string, upgraded: string): Promise<void> {
    await this.db
      .update(users)
      .set({ passwordHash: upgraded, updatedAt: sql`(strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))` })
      .where(sql`${users.id} = ${id} AND ${users.passwordHash} = ${verified}`);
  }
}
