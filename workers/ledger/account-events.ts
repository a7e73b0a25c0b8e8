import { cloudEvent, type CloudEvent } from '../../shared/events/cloud-event';
import type { OutboxDestination } from '../../shared/outbox/outbox-message';
import type { AccountEvent } from './account';

/**
 * Where ledger events leave to: one QStash topic (URL group). shared/events/topology.json does
 * not list it yet, on purpose: no service consumes ledger events yet, and a topic with no
 * consumers cannot exist in QStash (scripts/qstash-setup.mjs only makes a URL group by adding
 * endpoints, and publishing to a group that is missing or has no endpoints is refused, by the
 * local server too). Until a consumer subscribes, the rows wait in the outbox, committed with
 * their events, and the relay retries them with backoff; nothing is lost. (See issue 6's notes.)
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
