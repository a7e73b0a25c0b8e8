import type { NewRefreshToken } from './refresh-token';

const ISO_NOW = "strftime('%Y-%m-%dT%H:%M:%fZ', 'now')";

/** What a token that could not be spent turned out to be. */
export interface PresentedToken {
  familyId: string;
  userId: string;
  /** Already exchanged once: presenting it again means it was copied. */
  spent: boolean;
}

/**
 * Refresh tokens and their families in the users D1, found by their SHA-256 only. Plain D1
 * statements rather than drizzle: the rotation is two statements in one `batch` (one
 * transaction), which reads clearest as the SQL it is.
 *
 * The one rule that matters under concurrency: a token is spent by a single conditional UPDATE,
 * which SQLite runs atomically, so of any number of simultaneous refreshes with the same token
 * exactly one changes the row; the others change nothing and are treated as reuse.
 */
export class RefreshTokenRepository {
  constructor(private readonly db: D1Database) {}

  /** A new family (one login) and its first token, in one batch: both or neither. */
  async startFamily(familyId: string, userId: string, first: NewRefreshToken): Promise<void> {
    await this.db.batch([
      this.db.prepare('INSERT INTO refresh_families (id, user_id) VALUES (?, ?)').bind(familyId, userId),
      this.db
        .prepare('INSERT INTO refresh_tokens (id, family_id, token_hash, expires_at) VALUES (?, ?, ?, ?)')
        .bind(first.id, familyId, first.hash, first.expiresAt),
    ]);
  }

  /**
   * Spends the token with hash `presentedHash` and issues `next` in its family, atomically (one
   * D1 batch is one transaction). The UPDATE wins only if the token is unspent, unexpired and its
   * family not revoked, and records `next.id` as the replacement; the INSERT copies the family
   * from exactly that row, so `next` exists only if this call won. Returns the token's family and
   * owner, or undefined when nothing was spent.
   */
  async rotate(presentedHash: string, next: NewRefreshToken, nowMs: number): Promise<{ familyId: string; userId: string } | undefined> {
    const [spent] = await this.db.batch<{ familyId: string; userId: string }>([
      this.db
        .prepare(
          `UPDATE refresh_tokens SET spent_at = ${ISO_NOW}, replaced_by = ?1
           WHERE token_hash = ?2
             AND spent_at IS NULL
             AND expires_at > ?3
             AND family_id IN (SELECT id FROM refresh_families WHERE revoked_at IS NULL)
           RETURNING family_id AS familyId,
                     (SELECT user_id FROM refresh_families WHERE refresh_families.id = refresh_tokens.family_id) AS userId`,
        )
        .bind(next.id, presentedHash, nowMs),
      this.db
        .prepare(
          `INSERT INTO refresh_tokens (id, family_id, token_hash, expires_at)
           SELECT ?1, family_id, ?2, ?3 FROM refresh_tokens WHERE replaced_by = ?1`,
        )
        .bind(next.id, next.hash, next.expiresAt),
    ]);
    return spent?.results[0];
  }

  /** The token with this hash, whatever its state; undefined if no such token was ever issued. */
  async inspect(hash: string): Promise<PresentedToken | undefined> {
    const row = await this.db
      .prepare(
        `SELECT t.family_id AS familyId, f.user_id AS userId, t.spent_at IS NOT NULL AS spent
         FROM refresh_tokens t JOIN refresh_families f ON f.id = t.family_id
         WHERE t.token_hash = ?`,
      )
      .bind(hash)
      .first<{ familyId: string; userId: string; spent: number }>();
    return row ? { familyId: row.familyId, userId: row.userId, spent: row.spent === 1 } : undefined;
  }

  /** Revokes a family: none of its tokens can be spent any more. True if this call revoked it. */
  async revokeFamily(familyId: string, reason: 'logout' | 'reuse'): Promise<boolean> {
    const { meta } = await this.db
      .prepare(`UPDATE refresh_families SET revoked_at = ${ISO_NOW}, revoked_reason = ? WHERE id = ? AND revoked_at IS NULL`)
      .bind(reason, familyId)
      .run();
    return meta.changes > 0;
  }

  /** Revokes the family of the token with this hash (logout); undefined when there is no such live family. */
  async revokeFamilyOfToken(hash: string, reason: 'logout' | 'reuse'): Promise<string | undefined> {
    const row = await this.db
      .prepare(
        `UPDATE refresh_families SET revoked_at = ${ISO_NOW}, revoked_reason = ?
         WHERE id = (SELECT family_id FROM refresh_tokens WHERE token_hash = ?) AND revoked_at IS NULL
         RETURNING id`,
      )
      .bind(reason, hash)
      .first<{ id: string }>();
    return row?.id;
  }
}
