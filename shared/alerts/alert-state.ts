/**
 * One alert's state machine, as Prometheus and Grafana run it:
 * - inactive (or resolved) → pending when the condition starts to hold (→ firing at once when
 *   `for` is 0);
 * - pending → firing once the condition has held for `for`; pending → inactive if it stops first
 *   (nothing was ever said, so nothing is notified);
 * - firing → resolved when the condition stops; resolved → pending when it holds again.
 * Pure: the time comes in, the transition and what to notify come out.
 */
export type AlertState = 'inactive' | 'pending' | 'firing' | 'resolved';

export interface AlertStatus {
  state: AlertState;
  /** When this state began (epoch ms). */
  since: number;
  /** When the condition began to hold, while pending or firing: the notification's startsAt. */
  activeSince?: number;
  /** The last value the rule measured, when it measured one. */
  value?: number;
}

export interface AlertStep {
  status: AlertStatus;
  /** Set on a transition someone must hear about. */
  notify?: 'firing' | 'resolved';
}

export const initialStatus = (now: number): AlertStatus => ({ state: 'inactive', since: now });

export function stepAlert(status: AlertStatus, verdict: { active: boolean; value: number | null }, now: number, forMs: number): AlertStep {
  const value = verdict.value ?? undefined;
  const keep = (next: AlertStatus): AlertStatus => (value === undefined ? next : { ...next, value });
  switch (status.state) {
    case 'inactive':
    case 'resolved':
      if (!verdict.active) return { status: keep({ ...status }) };
      if (forMs <= 0) return { status: keep({ state: 'firing', since: now, activeSince: now }), notify: 'firing' };
      return { status: keep({ state: 'pending', since: now, activeSince: now }) };
    case 'pending': {
      if (!verdict.active) return { status: keep({ state: 'inactive', since: now }) };
      const activeSince = status.activeSince ?? status.since;
      if (now - activeSince >= forMs) return { status: keep({ state: 'firing', since: now, activeSince }), notify: 'firing' };
      return { status: keep({ ...status }) };
    }
    case 'firing':
      if (verdict.active) return { status: keep({ ...status }) };
      return { status: keep({ state: 'resolved', since: now, activeSince: status.activeSince }), notify: 'resolved' };
  }
}
