import { beforeEach, describe, expect, it } from 'vitest';
import { captureSpansEachTest, clientSpansOf } from '../../support/span-capture';
import { asUser, freshIp, get, PASSWORD, post, register, resetDatabase } from './support';

// Every D1 round trip a users request makes is a CLIENT span of that request (traced-d1.ts),
// exported when OTEL_EXPORTER_OTLP_ENDPOINT is set.
const capture = captureSpansEachTest();
beforeEach(resetDatabase);

describe('the users service traces its D1 work', () => {
  it('a login: the limiter, the user lookup and the new token family, each a span under the login span', async () => {
    await register('ann@example.com');
    const response = await post('/login', { email: 'ann@example.com', password: PASSWORD }, { ip: freshIp(), bindings: capture.bindings });
    expect(response.status).toBe(200);

    const d1 = clientSpansOf(capture.spans, 'users', 'POST /login');
    // Counted per address and per account, the user read, the account's count cleared, the family
    // started; the counters' pruning runs after the answer (waitUntil) and is left out.
    expect(d1.map((s) => s.name)).toEqual(['D1 INSERT', 'D1 INSERT', 'D1 SELECT', 'D1 DELETE', 'D1 batch']);
    expect(d1.every((s) => s.attributes['db.system.name'] === 'sqlite')).toBe(true);
    // The new family and its first token: one batch of two statements.
    expect(d1.find((s) => s.name === 'D1 batch')?.attributes['db.operation.batch.size']).toBe(2);
    // The query text is kept, never the values bound to it.
    expect(d1.some((s) => String(s.attributes['db.query.text']).includes('"users"'))).toBe(true);
    expect(JSON.stringify(capture.spans)).not.toContain('ann@example.com');
  });

  it('a profile read: one SELECT under GET /me', async () => {
    const { id } = await register('bob@example.com');
    expect((await get('/me', asUser(id, 'customer'), capture.bindings)).status).toBe(200);
    expect(clientSpansOf(capture.spans, 'users', 'GET /me').map((s) => [s.name, s.attributes['db.operation.name']])).toEqual([['D1 SELECT', 'SELECT']]);
  });

  it('nothing at all with export off', async () => {
    const { id } = await register('cy@example.com');
    expect((await get('/me', asUser(id, 'customer'))).status).toBe(200);
    expect(capture.spans).toEqual([]);
  });
});
