import { describe, expect, it } from 'vitest';
import gateway from '../../../workers/gateway/index';
import { callWorker, json } from '../../support/call-worker';
import { watchSocket } from '../../support/live-socket';

/**
 * The ops dashboard's socket (GET /_ops/live): a one-time ticket from POST /_ops/live/ticket (ops
 * token), checked before the upgrade; the breakers and sagas panels' data at once; presence.
 */
const operator = { authorization: 'Bearer test-admin-token' };

async function ticketFor(name: string): Promise<string> {
  const response = await callWorker(gateway, '/_ops/live/ticket', json({ name }, operator));
  expect(response.status).toBe(201);
  return (await response.json<{ ticket: string }>()).ticket;
}
const open = (ticket: string) => callWorker(gateway, `/_ops/live?ticket=${ticket}`, { headers: { upgrade: 'websocket' } });
const ofType = (messages: Record<string, unknown>[], type: string) => messages.filter((m) => m.type === type);

describe('the ops dashboard over a WebSocket', () => {
  it("sends the breakers and sagas panels' data at once, and each operator sees who else is there", async () => {
    const ada = watchSocket(await open(await ticketFor('ada')));
    await ada.received(3);
    expect(ofType(ada.messages, 'breakers')[0]).toMatchObject({ breakers: { catalog: { state: 'closed' } } });
    expect(ofType(ada.messages, 'sagas')[0]).toMatchObject({ sagas: { items: expect.any(Array) } });
    expect(ofType(ada.messages, 'presence')[0]).toEqual({ type: 'presence', count: 1, names: ['ada'] });

    const grace = watchSocket(await open(await ticketFor('grace')));
    await grace.received(3);
    // Ada is told Grace arrived, without asking.
    const deadline = Date.now() + 5_000;
    while (!ofType(ada.messages, 'presence').some((m) => m.count === 2) && Date.now() < deadline) await ada.received(ada.messages.length + 1, 5_000);
    expect(ofType(ada.messages, 'presence').at(-1)).toEqual({ type: 'presence', count: 2, names: ['ada', 'grace'] });
    grace.socket.close(1000, 'bye');
    await grace.closed();
    ada.socket.close(1000, 'bye');
  });

  it('is refused before the upgrade: no ticket, a made-up one, or one used already (401); the ticket needs the ops token', async () => {
    for (const ticket of ['', 'short', 'A'.repeat(43)]) {
      const response = await open(ticket);
      expect(response.status).toBe(401);
      expect(response.webSocket).toBeNull();
    }
    const ticket = await ticketFor('once');
    const first = watchSocket(await open(ticket));
    await first.received(1);
    expect((await open(ticket)).status).toBe(401);
    first.socket.close(1000, 'bye');
    expect((await callWorker(gateway, '/_ops/live/ticket', json({}))).status).toBe(401);
  });
});
