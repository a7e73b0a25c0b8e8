import { and, eq, sql } from 'drizzle-orm';
import type { DrizzleD1Database } from 'drizzle-orm/d1';
import { constraintFailure } from '../../shared/adapters/cloudflare/d1-constraint';
import type { D1Statement } from '../../shared/adapters/cloudflare/d1-event-store';
import { idempotencyKeyReused, requestFingerprint } from '../../shared/http/idempotency-key';
import { commandKeys, type CommandKeyRow } from './schema';

/**
 * Ledger commands sent with `Idempotency-Key` (schema.ts `command_keys` says why the key is
 * written in the append's own batch). This file holds the three pieces the routes combine: the
 * request's claim (who, which key, which request), the lookup a retry answers from, and how to
 * tell "that key is taken" from any other failure of the batch.
 */
export interface CommandKeyClaim {
  userId: string;
  key: string;
  fingerprint: string;
}

/**
 * The claim for `operation` on `body`. The operation names the command and, for commands on an
 * existing account, the account: the same key sent for another account is another request (422).
 */
export async function commandKeyClaim(userId: string, key: string, operation: string, body: unknown): Promise<CommandKeyClaim> {
  return { userId, key, fingerprint: await requestFingerprint(`ledger.${operation}`, body) };
}

/** The row a first run recorded, or undefined. 422 when it was recorded for another request. */
export async function recordedCommand(db: DrizzleD1Database<any>, claim: CommandKeyClaim): Promise<CommandKeyRow | undefined> {
  const row = await db
    .select()
    .from(commandKeys)
    .where(and(eq(commandKeys.userId, claim.userId), eq(commandKeys.idempotencyKey, claim.key)))
    .get();
  if (row && row.fingerprint !== claim.fingerprint) throw idempotencyKeyReused();
  return row;
}

/** The statement that records `claim` for the command that brought `accountId` to `version`. */
export const recordCommandKey = (db: DrizzleD1Database<any>, claim: CommandKeyClaim, accountId: string, version: number, now: number): D1Statement =>
  db.insert(commandKeys).values({ userId: claim.userId, idempotencyKey: claim.key, accountId, fingerprint: claim.fingerprint, version, recordedAt: now });

/** The append's batch was refused because a twin with the same key committed first. */
export const isCommandKeyTaken = (error: unknown): boolean => {
  const failure = constraintFailure(error);
  return failure?.kind === 'unique' && failure.target === 'command_keys.user_id, command_keys.idempotency_key';
};

/** Rows one prune deletes at most: a bounded share per cron tick, like the projection passes. */
export const PRUNE_BATCH = 500;

/**
 * Deletes up to PRUNE_BATCH keys recorded before `before` (epoch ms), oldest first, through the
 * recorded_at index, and answers how many went. The cron calls it once a minute, so a backlog is
 * worked off a batch per tick.
 */
export async function pruneCommandKeys(db: DrizzleD1Database<any>, before: number, limit = PRUNE_BATCH): Promise<number> {
  const deleted = await db
    .delete(commandKeys)
    .where(
      sql`rowid IN (SELECT rowid FROM ${commandKeys} WHERE ${commandKeys.recordedAt} < ${before} ORDER BY ${commandKeys.recordedAt} LIMIT ${limit})`,
    )
    .returning({ key: commandKeys.idempotencyKey });
  return deleted.length;
}
