import { describe, expect, it } from 'vitest';
import { callWorker, json } from '../../support/call-worker';
import { captureSpansEachTest, clientSpansOf } from '../../support/span-capture';
import { asCustomer, ledger, openAccount } from './support';

// Every D1 round trip a ledger request makes is a CLIENT span of that request (traced-d1.ts),
// exported when OTEL_EXPORTER_OTLP_ENDPOINT is set; projections caught up after the answer are not.
const capture = captureSpansEachTest();

describe('the ledger traces its D1 work', () => {
  it('a deposit: the account loaded in one batch, its event appended in another, both under the request', async () => {
    const accountId = await openAccount(1_000);
    const response = await callWorker(ledger, `/ledger/accounts/${accountId}/deposits`, json({ amountCents: 250 }, asCustomer), capture.bindings);
    expect(response.status).toBe(200);
    const d1 = clientSpansOf(capture.spans, 'ledger', 'POST /ledger/accounts/:id/deposits');
    // The load reads the snapshot and the events after it in one batch; the append is another.
    expect(d1.map((s) => [s.name, s.attributes['db.operation.batch.size']])).toEqual([
      ['D1 batch', 2],
      ['D1 batch', 2],
    ]);
  });

  it("an account's history: its two reads under the request", async () => {
    const accountId = await openAccount(500);
    const response = await callWorker(ledger, `/ledger/accounts/${accountId}/transactions`, { headers: asCustomer }, capture.bindings);
    expect(response.status).toBe(200);
    // The read routes are mounted under /ledger/*: that is the span's route.
    const d1 = clientSpansOf(capture.spans, 'ledger', 'GET /ledger/*');
    // The holder and the page, read at once.
    expect(d1.map((s) => s.name)).toEqual(['D1 SELECT', 'D1 SELECT']);
    expect(d1.some((s) => String(s.attributes['db.query.text']).includes('"transactions"'))).toBe(true);
  });
});
