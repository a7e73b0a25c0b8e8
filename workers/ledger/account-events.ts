import { cloudEvent, type CloudEvent } from '../../shared/events/cloud-event';
import type { OutboxDestination } from '../../shared/outbox/outbox-message';
import type { AccountEvent } from './account';

/**
 * Where ledger events leave to: one QStash topic (URL group), `ledger-events` in
 * shared/events/topology.json. Its first subscriber is notifications, which records each event in
 * its inbox and sends nothing for these types yet: a topic needs at least one endpoint to exist in
 * QStash, and more consumers (an audit trail, alerts on large withdrawals) subscribe by adding
 * themselves to the topology.
 */
export const LEDGER_EVENTS: OutboxDestination = { kind: 'topic', topic: 'ledger-events' };

const SOURCE = 'stratus/ledger';

const TYPES: Record<AccountEvent['type'], string> = {
  AccountOpened: 'ledger.account.opened',
  MoneyDeposited: 'ledger.money.deposited',
  MoneyWithdrawn: 'ledger.money.withdrawn',
  AccountFrozen: 'ledger.account.frozen',
};

/**
 * The CloudEvent that reports one stored ledger event, subject the account. Its id is derived
 * from the stream and version, so one stored event is one message (and QStash's deduplication
 * id), however often the append that made it was retried.
 */
export function ledgerCloudEvent(accountId: string, version: number, event: AccountEvent, recordedAt: number, traceparent?: string | null): CloudEvent {
  return cloudEvent({
    id: `evt_${accountId}_${version}`,
    source: SOURCE,
    type: TYPES[event.type],
    subject: accountId,
    time: new Date(recordedAt),
    data: { accountId, version, ...event.data },
    traceparent,
  });
}
