import { isTerminal, type SagaState, type SagaStatus } from '../../shared/saga/saga';

/**
 * What a watcher of `GET /orders/:id/live` is told, as pure functions of the saga's state (no
 * I/O, no clock): the live object (order-live.ts) is the shell that sends them.
 *
 *   {type:"state", orderId, status, steps:[{name, status, attempts}]}   first, on connecting
 *   {type:"step", name, status, attempts}                               a step has ended
 *   {type:"status", status}                                             the order's status moved
 *
 * The server closes the socket after a terminal status (COMPLETED, CANCELLED).
 */

/** A step as a watcher sees it: no times, no errors (those are in `GET /orders/:id`). */
export interface LiveStep {
  name: string;
  status: string;
  attempts: number;
}

/**
 * The saga as the saga pushes it: the whole state each time (a few hundred bytes), so one missed
 * push is healed by the next. `revision` grows with every save of the saga, so a late or repeated
 * push never moves a watcher back.
 */
export interface LiveSnapshot {
  orderId: string;
  revision: number;
  status: SagaStatus;
  steps: LiveStep[];
}

export type LiveMessage =
  | { type: 'state'; orderId: string; status: SagaStatus; steps: LiveStep[] }
  | { type: 'step'; name: string; status: string; attempts: number }
  | { type: 'status'; status: SagaStatus };

/**
 * What one socket has been told: the revision, the order's status and each step's ended status
 * by position (`null` while the step has not ended). Small, as it lives in the socket's
 * attachment (2 KiB at most) and survives hibernation there.
 */
export interface Seen {
  revision: number;
  status: SagaStatus;
  ended: (string | null)[];
}

/** Steps end as succeeded, failed or skipped; pending and running are on the way. */
const ENDED = new Set(['succeeded', 'failed', 'skipped']);
const endedStatus = (step: LiveStep): string | null => (ENDED.has(step.status) ? step.status : null);

export function snapshotOf(saga: SagaState, revision: number): LiveSnapshot {
  return { orderId: saga.id, revision, status: saga.status, steps: saga.steps.map(({ name, status, attempts }) => ({ name, status, attempts })) };
}

/** The first message, and what the socket has then seen. */
export function stateMessage(snapshot: LiveSnapshot): { message: LiveMessage; seen: Seen } {
  return {
    message: { type: 'state', orderId: snapshot.orderId, status: snapshot.status, steps: snapshot.steps },
    seen: { revision: snapshot.revision, status: snapshot.status, ended: snapshot.steps.map(endedStatus) },
  };
}

/**
 * What a socket that has `seen` is told about `snapshot`: each step that ended since, in the
 * saga's order, then the status if it moved. Nothing for a snapshot no newer than what it saw.
 */
export function changesSince(seen: Seen, snapshot: LiveSnapshot): { messages: LiveMessage[]; seen: Seen } {
  if (snapshot.revision <= seen.revision) return { messages: [], seen };
  const messages: LiveMessage[] = [];
  const ended = snapshot.steps.map((step, index) => {
    const status = endedStatus(step);
    if (status !== null && seen.ended[index] !== status) messages.push({ type: 'step', name: step.name, status, attempts: step.attempts });
    return status;
  });
  if (snapshot.status !== seen.status) messages.push({ type: 'status', status: snapshot.status });
  return { messages, seen: { revision: snapshot.revision, status: snapshot.status, ended } };
}

/** Whether the socket should be closed once told this: the order has ended. */
export const hasEnded = (seen: Seen): boolean => isTerminal(seen.status);
