import { and, eq, exists, inArray, sql } from 'drizzle-orm';
import type { DrizzleD1Database } from 'drizzle-orm/d1';
import { constraintFailure } from '../../shared/adapters/cloudflare/d1-constraint';
import type { StockItem } from './inventory-schemas';
import { products, reservationItems, reservations, type ReservationRow } from './schema';

const NOW = sql`(strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))`;

/** A reservation to write: who asked (key, fingerprint) and what it holds. */
export interface ReservationToInsert {
  id: string;
  idempotencyKey: string;
  requestFingerprint: string;
  items: StockItem[];
}

/** Why a reserve batch wrote nothing. */
export type ReserveRefusal = 'taken' | 'unknown-product' | 'out-of-stock';

/**
 * Stock and reservations in the catalog's D1. Nothing here reads stock and then writes it: every
 * change is a statement SQLite applies atomically, and multi-row changes are one D1 batch (one
 * transaction), so concurrent reservations are serialised by D1's single writer and the CHECK on
 * `products.stock` is the last word on whether there is enough.
 */
export class InventoryRepository {
  constructor(private readonly db: DrizzleD1Database) {}

  /**
   * Reserves every item or none, in ONE batch: the reservation row (its primary key and the
   * UNIQUE key refuse a second reserve with the same id or key), a row per item (the foreign key
   * refuses an unknown product), and per item `stock = stock - quantity` (the CHECK stock >= 0
   * refuses a shortage). Any refusal rolls the whole batch back; the first failing statement
   * names the reason, in that order.
   */
  async reserve(reservation: ReservationToInsert): Promise<'reserved' | ReserveRefusal> {
    const db = this.db;
    try {
      await db.batch([
        db.insert(reservations).values({
          id: reservation.id,
          status: 'reserved',
          idempotencyKey: reservation.idempotencyKey,
          requestFingerprint: reservation.requestFingerprint,
          items: JSON.stringify(reservation.items),
        }),
        db.insert(reservationItems).values(reservation.items.map((item) => ({ reservationId: reservation.id, ...item }))),
        ...reservation.items.map((item) =>
          db
            .update(products)
            .set({ stock: sql`${products.stock} - ${item.quantity}`, updatedAt: NOW })
            .where(eq(products.id, item.productId)),
        ),
      ]);
      return 'reserved';
    } catch (error) {
      const failure = constraintFailure(error);
      if (failure?.kind === 'unique') return 'taken';
      if (failure?.kind === 'foreign-key') return 'unknown-product';
      if (failure?.kind === 'check' && failure.target === 'products_stock_not_negative') return 'out-of-stock';
      throw error;
    }
  }

  /**
   * Records a reserve refused for stock, so the same request again gets the same 409 and a late
   * duplicate cannot take stock the saga already gave up on. False when the id or key is already
   * taken (a concurrent duplicate got there first): the caller answers with that row instead.
   */
  async recordRefusal(reservation: ReservationToInsert): Promise<boolean> {
    const inserted = await this.db
      .insert(reservations)
      .values({
        id: reservation.id,
        status: 'refused',
        idempotencyKey: reservation.idempotencyKey,
        requestFingerprint: reservation.requestFingerprint,
        items: JSON.stringify(reservation.items),
      })
      .onConflictDoNothing()
      .returning({ id: reservations.id });
    return inserted.length > 0;
  }

  /** `reserved` → `committed`, one conditional UPDATE; then the row as it now stands (undefined: unknown id). */
  async commit(id: string): Promise<ReservationRow | undefined> {
    await this.db
      .update(reservations)
      .set({ status: 'committed', updatedAt: NOW })
      .where(and(eq(reservations.id, id), eq(reservations.status, 'reserved')));
    return this.find(id);
  }

  /**
   * Releases in ONE batch: a tombstone if the id was never seen (INSERT … ON CONFLICT DO
   * NOTHING), `reserved`/`refused` → `released` stamped with this call's `token`, and the
   * reservation's stock added back only where the row carries this very token. A second release,
   * concurrent or late, finds the row already `released` with another token and gives nothing
   * back: stock returns exactly once. Then the row as it now stands (`released` or `committed`).
   */
  async release(id: string, token: string): Promise<{ row: ReservationRow; releasedNow: boolean }> {
    const db = this.db;
    await db.batch([
      db.insert(reservations).values({ id, status: 'released', releaseToken: token }).onConflictDoNothing({ target: reservations.id }),
      db
        .update(reservations)
        .set({ status: 'released', releaseToken: token, updatedAt: NOW })
        .where(and(eq(reservations.id, id), inArray(reservations.status, ['reserved', 'refused']))),
      // Only a reserved row has items (a tombstone or a refusal has none), so this gives back
      // exactly what the reserve took, once.
      db
        .update(products)
        .set({
          stock: sql`${products.stock} + (SELECT ri.quantity FROM reservation_items ri WHERE ri.reservation_id = ${id} AND ri.product_id = "products"."id")`,
          updatedAt: NOW,
        })
        .where(
          and(
            inArray(products.id, db.select({ id: reservationItems.productId }).from(reservationItems).where(eq(reservationItems.reservationId, id))),
            exists(db.select({ one: sql`1` }).from(reservations).where(and(eq(reservations.id, id), eq(reservations.releaseToken, token)))),
          ),
        ),
    ]);
    const row = await this.find(id);
    if (!row) throw new Error(`reservation ${id} missing after its release batch`);
    return { row, releasedNow: row.releaseToken === token };
  }

  async find(id: string): Promise<ReservationRow | undefined> {
    return this.db.select().from(reservations).where(eq(reservations.id, id)).get();
  }

  async findByKey(key: string): Promise<ReservationRow | undefined> {
    return this.db.select().from(reservations).where(eq(reservations.idempotencyKey, key)).get();
  }

  /** Price, currency and stock of these products (those that exist). */
  async products(ids: readonly string[]): Promise<{ id: string; priceCents: number; currency: string; stock: number }[]> {
    if (ids.length === 0) return [];
    return this.db
      .select({ id: products.id, priceCents: products.priceCents, currency: products.currency, stock: products.stock })
      .from(products)
      .where(inArray(products.id, [...ids]));
  }
}
