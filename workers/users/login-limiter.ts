import { sql } from 'drizzle-orm';
import type { DrizzleD1Database } from 'drizzle-orm/d1';

/** A fixed-window limit: at most `limit` hits per `windowMs`, the window starting at the first hit. */
export interface WindowRule {
  limit: number;
  windowMs: number;
}

const FIFTEEN_MINUTES = 15 * 60_000;

/**
 * Login limits. Per account: 5 attempts that did not succeed per 15 minutes (a success clears
 * the count, so in effect these are failures), counted for unknown emails too, so a 429 says
 * nothing about whether an account exists. Per client IP: 20 attempts of any outcome per 15
 * minutes, which bounds one client guessing across many accounts.
 */
export const LOGIN_LIMITS = {
  account: { limit: 5, windowMs: FIFTEEN_MINUTES },
  ip: { limit: 20, windowMs: FIFTEEN_MINUTES },
} as const satisfies Record<string, WindowRule>;

export interface LimitDecision {
  allowed: boolean;
  /** Hits in the current window, this one included. */
  count: number;
  /** Seconds until the window ends (for `Retry-After`); at least 1. */
  retryAfterSeconds: number;
}

/** The pure decision, from the counter's state after this hit. */
export function decide(rule: WindowRule, count: number, windowStart: number, nowMs: number): LimitDecision {
  return {
    allowed: count <= rule.limit,
    count,
    retryAfterSeconds: Math.max(1, Math.ceil((windowStart + rule.windowMs - nowMs) / 1000)),
  };
}

/**
 * Counters in D1. Each hit is ONE statement, an upsert that increments (or restarts an expired
 * window) and returns the result, so concurrent attempts are each counted exactly once: SQLite
 * serialises the writes, and no caller decides from a value another caller is about to change.
 * The attempt is counted before the password is checked, so 20 simultaneous guesses cannot all
 * slip under a limit of 5.
 */
export class LoginLimiter {
  constructor(private readonly db: DrizzleD1Database) {}

  async hit(key: string, rule: WindowRule, nowMs: number): Promise<LimitDecision> {
    const windowFloor = nowMs - rule.windowMs;
    const row = await this.db.get<{ count: number; windowStart: number }>(sql`
      INSERT INTO login_attempts (key, window_start, count) VALUES (${key}, ${nowMs}, 1)
      ON CONFLICT (key) DO UPDATE SET
        count = CASE WHEN login_attempts.window_start > ${windowFloor} THEN login_attempts.count + 1 ELSE 1 END,
        window_start = CASE WHEN login_attempts.window_start > ${windowFloor} THEN login_attempts.window_start ELSE ${nowMs} END
      RETURNING count, window_start AS windowStart`);
    return decide(rule, row.count, row.windowStart, nowMs);
  }

  /** Forgets a key's attempts (a successful login clears its account's count). */
  async clear(key: string): Promise<void> {
    await this.db.run(sql`DELETE FROM login_attempts WHERE key = ${key}`);
  }

  /** Deletes counters whose window ended, so keys never seen again do not pile up. */
  async prune(nowMs: number, longestWindowMs: number): Promise<void> {
    await this.db.run(sql`DELETE FROM login_attempts WHERE window_start <= ${nowMs - longestWindowMs}`);
  }
}
