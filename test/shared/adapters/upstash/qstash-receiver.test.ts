import { describe, expect, it } from 'vitest';
import { qstashReceiver } from '../../../../shared/adapters/upstash/qstash-receiver';
import { CURRENT_KEY, NEXT_KEY, signAsQStash } from '../../support/qstash-signing';

const url = 'http://127.0.0.1:8787/hooks/notifications';
const body = JSON.stringify({ specversion: '1.0', id: 'evt_1', source: 'stratus/orders', type: 'order.completed', data: { orderId: 'ord_1' } });
const receiver = qstashReceiver({ currentSigningKey: CURRENT_KEY, nextSigningKey: NEXT_KEY });

describe('qstashReceiver', () => {
  it('accepts a delivery signed with the current key', async () => {
    const signature = await signAsQStash({ url, body, key: CURRENT_KEY });
    expect(await receiver.verify({ signature, body, url })).toEqual({ valid: true });
  });

  it('accepts a delivery signed with the next key (a rotation in progress)', async () => {
    const signature = await signAsQStash({ url, body, key: NEXT_KEY });
    expect(await receiver.verify({ signature, body, url })).toEqual({ valid: true });
  });

  it('accepts a body hash with base64 padding, as the Receiver ignores it', async () => {
    const signature = await signAsQStash({ url, body, padded: true });
    expect(await receiver.verify({ signature, body, url })).toEqual({ valid: true });
  });

  it('refuses a tampered body', async () => {
    const signature = await signAsQStash({ url, body });
    const tampered = body.replace('ord_1', 'ord_2');
    expect(await receiver.verify({ signature, body: tampered, url })).toMatchObject({ valid: false, reason: expect.stringContaining('body hash') });
  });

  it('refuses a signature made for another URL', async () => {
    const signature = await signAsQStash({ url: 'http://127.0.0.1:8787/hooks/catalog', body });
    expect(await receiver.verify({ signature, body, url })).toMatchObject({ valid: false, reason: expect.stringContaining('invalid subject') });
  });

  it('refuses an unsigned delivery', async () => {
    expect(await receiver.verify({ signature: null, body, url })).toEqual({ valid: false, reason: 'no Upstash-Signature header' });
    expect(await receiver.verify({ signature: '', body, url })).toMatchObject({ valid: false });
  });

  it('refuses a signature made with neither key', async () => {
    const signature = await signAsQStash({ url, body, key: 'sig_someone_else' });
    expect(await receiver.verify({ signature, body, url })).toMatchObject({ valid: false });
  });

  it('refuses an expired signature', async () => {
    const signature = await signAsQStash({ url, body, iat: Math.floor(Date.now() / 1000) - 600, ttlSeconds: 300 });
    expect(await receiver.verify({ signature, body, url })).toMatchObject({ valid: false });
  });

  it('refuses a token from another issuer', async () => {
    const signature = await signAsQStash({ url, body, issuer: 'Someone' });
    expect(await receiver.verify({ signature, body, url })).toMatchObject({ valid: false });
  });

  it('refuses garbage', async () => {
    expect(await receiver.verify({ signature: 'not.a.jwt', body, url })).toMatchObject({ valid: false });
  });
});
