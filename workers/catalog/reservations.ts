import { idempotencyKeyReused, requestFingerprint } from '../../shared/http/idempotency-key';
import { HttpError, notFound } from '../../shared/http/problem';
import type { InventoryRepository, ReservationToInsert } from './inventory-repository';
import type { ReservationAnswer, ReservationStatusAnswer, ReserveInput, StockItem } from './inventory-schemas';
import type { ReservationRow } from './schema';

/**
 * The reservation state machine the order saga drives (reserve → commit, or reserve → release
 * as compensation), every call idempotent: the same call twice gets the same answer and changes
 * nothing the second time. The writes are single atomic statements or one batch
 * (inventory-repository.ts); what is read afterwards only explains an answer, and cannot
 * contradict it, because a reservation only moves forward (reserved → committed | released,
 * refused → released) and committed and released are final.
 */

// The business refusals (409), each with its own problem type so the saga can tell them apart.
const outOfStock = (detail: string) => new HttpError(409, { type: 'out-of-stock', detail });
const reservationReleased = (id: string) =>
  new HttpError(409, { type: 'reservation-released', detail: `Reservation ${id} was released; it cannot be reserved or committed any more.` });
const reservationCommitted = (id: string) =>
  new HttpError(409, { type: 'reservation-committed', detail: `Reservation ${id} was committed; its stock is sold and cannot be released.` });
const reservationRefused = (id: string) =>
  outOfStock(`Reservation ${id} was refused for lack of stock when it was asked for; it holds nothing.`);

export interface Reserved {
  answer: ReservationAnswer;
  /** True when this is an earlier request's answer, sent again. */
  replayed: boolean;
}

const answerOf = (id: string, items: StockItem[]): ReservationAnswer => ({ reservationId: id, status: 'reserved', items });

/** Items sorted by product: the same reservation however its lines were ordered. */
const fingerprintOf = (input: ReserveInput) =>
  requestFingerprint('reserve', {
    reservationId: input.reservationId,
    items: [...input.items].sort((a, b) => (a.productId < b.productId ? -1 : a.productId > b.productId ? 1 : 0)),
  });

/** What an existing reservation answers to a reserve asking for it again. */
function replayOf(row: ReservationRow, fingerprint: string, id: string): Reserved {
  if (row.status === 'released') throw reservationReleased(row.id);
  if (row.requestFingerprint !== fingerprint) {
    throw idempotencyKeyReused(
      row.id === id
        ? `Reservation ${id} was already asked for with other items; a new reservation needs a new id.`
        : 'This Idempotency-Key was already used for another reservation; use a new key for a new request.',
    );
  }
  if (row.status === 'refused') throw reservationRefused(row.id);
  return { answer: answerOf(row.id, JSON.parse(row.items ?? '[]') as StockItem[]), replayed: true };
}

async function shortageDetail(repository: InventoryRepository, items: StockItem[]): Promise<string> {
  const stock = new Map((await repository.products(items.map((i) => i.productId))).map((p) => [p.id, p.stock]));
  const short = items.filter((item) => (stock.get(item.productId) ?? 0) < item.quantity);
  if (short.length === 0) return 'Not enough stock for every item at the time of the request.';
  return `Not enough stock: ${short.map((item) => `${item.productId} (asked ${item.quantity}, ${stock.get(item.productId) ?? 0} left)`).join(', ')}.`;
}

/**
 * Reserves all items or none (201), replays an earlier identical reserve (201 again), or refuses:
 * 404 unknown product, 409 `out-of-stock` (recorded, so asked again it is refused again),
 * 409 `reservation-released` (released, or released before it arrived: the tombstone), 422 the
 * id or key reused for a different request.
 */
export async function reserve(repository: InventoryRepository, key: string, input: ReserveInput): Promise<Reserved> {
  const reservation: ReservationToInsert = {
    id: input.reservationId,
    idempotencyKey: key,
    requestFingerprint: await fingerprintOf(input),
    items: input.items,
  };
  const outcome = await repository.reserve(reservation);
  if (outcome === 'reserved') return { answer: answerOf(reservation.id, reservation.items), replayed: false };
  if (outcome === 'unknown-product') {
    const known = new Set((await repository.products(input.items.map((i) => i.productId))).map((p) => p.id));
    const missing = input.items.map((i) => i.productId).filter((id) => !known.has(id));
    throw notFound(`No product with id ${missing.join(', ') || '(one of the items)'}.`);
  }
  if (outcome === 'out-of-stock' && (await repository.recordRefusal(reservation))) {
    throw outOfStock(await shortageDetail(repository, reservation.items));
  }
  // The id or key is taken: by an earlier request (replay or refusal), a tombstone, or a
  // concurrent duplicate that got there first.
  const existing = (await repository.find(reservation.id)) ?? (await repository.findByKey(key));
  if (!existing) throw new Error(`reservation ${reservation.id} conflicted but no row holds its id or key`);
  return replayOf(existing, reservation.requestFingerprint, reservation.id);
}

/** reserved → committed (200); committed again → the same 200; released → 409; never reserved → 404. */
export async function commit(repository: InventoryRepository, id: string): Promise<ReservationStatusAnswer> {
  const row = await repository.commit(id);
  if (!row) throw notFound(`No reservation with id ${id}.`);
  if (row.status === 'committed') return { reservationId: id, status: 'committed' };
  if (row.status === 'released') throw reservationReleased(id);
  if (row.status === 'refused') throw reservationRefused(id);
  throw new Error(`reservation ${id} still ${row.status} after its commit`);
}

/**
 * reserved → released with its stock back (200); released again → the same 200, nothing given
 * back twice; never seen → a tombstone and 200 (so a reserve arriving late is refused);
 * committed → 409 `reservation-committed`.
 */
export async function release(
  repository: InventoryRepository,
  id: string,
): Promise<{ answer: ReservationStatusAnswer; releasedNow: boolean }> {
  const { row, releasedNow } = await repository.release(id, crypto.randomUUID());
  if (row.status === 'committed') throw reservationCommitted(id);
  if (row.status !== 'released') throw new Error(`reservation ${id} still ${row.status} after its release`);
  return { answer: { reservationId: id, status: 'released' }, releasedNow };
}
