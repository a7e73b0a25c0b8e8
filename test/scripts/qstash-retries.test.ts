import { describe, expect, it } from 'vitest';
import { isNonRetryable, MAX_RETRY_HINT_MS, retryHintMs } from '../../scripts/qstash/retry-hints.mjs';
import { header, raw, setup } from './qstash-test-kit';

// How the local QStash retries, held to what QStash does: the destination's Retry-After or
// X-RateLimit-Reset replaces the backoff for that retry, 489 + Upstash-NonRetryable-Error is
// dead-lettered at once, duration headers take only s/m/h/d, and default retries follow the plan.

describe('retry hints in a failed answer', () => {
  const now = Date.parse('2026-01-01T00:00:00Z');
  const hint = (headers: Record<string, string>) => retryHintMs(Object.entries(headers), now);

  it('Retry-After in seconds, as an HTTP date, or as a duration', () => {
    expect(hint({ 'retry-after': '2' })).toBe(2_000);
    expect(hint({ 'retry-after': new Date(now + 90_000).toUTCString() })).toBe(90_000);
    expect(hint({ 'retry-after': '1m30s' })).toBe(90_000);
    expect(hint({ 'retry-after': new Date(now - 5_000).toUTCString() })).toBe(0);
    expect(hint({ 'retry-after': 'whenever' })).toBeUndefined();
    expect(hint({})).toBeUndefined();
  });

  it('X-RateLimit-Reset as a unix time or seconds from now; -Requests/-Tokens as durations; the longest wins', () => {
    expect(hint({ 'x-ratelimit-reset': String(now / 1000 + 30) })).toBe(30_000);
    expect(hint({ 'x-ratelimit-reset': String(now + 4_000) })).toBe(4_000);
    expect(hint({ 'x-ratelimit-reset': '7' })).toBe(7_000);
    expect(hint({ 'x-ratelimit-reset-requests': '6m0s', 'x-ratelimit-reset-tokens': '20ms' })).toBe(360_000);
    expect(hint({ 'retry-after': '1', 'x-ratelimit-reset-requests': '3s' })).toBe(3_000);
  });

  it('is capped at one day', () => {
    expect(hint({ 'retry-after': String(7 * 86_400) })).toBe(MAX_RETRY_HINT_MS);
    expect(MAX_RETRY_HINT_MS).toBe(86_400_000);
  });

  it('489 is non-retryable only with Upstash-NonRetryable-Error: true', () => {
    expect(isNonRetryable({ status: 489, headers: [['upstash-nonretryable-error', 'true']] })).toBe(true);
    expect(isNonRetryable({ status: 489, headers: [['Upstash-NonRetryable-Error', 'TRUE']] })).toBe(true);
    expect(isNonRetryable({ status: 489, headers: [] })).toBe(false);
    expect(isNonRetryable({ status: 500, headers: [['upstash-nonretryable-error', 'true']] })).toBe(false);
  });
});

describe('local QStash retries with the official client', () => {
  it('a 503 with Retry-After: 2 is retried about 2 s later, not after the 12 s backoff', async () => {
    // Real time (scale 1): the point is the gap between the two attempts.
    const { qstash, endpoint, client } = await setup({ retryDelayScale: 1 }, (_, index) => (index === 0 ? { status: 503, headers: { 'retry-after': '2' } } : {}));
    await client.publish({ url: endpoint.url('/hooks/busy'), body: 'later', retries: 3 });
    await qstash.waitForIdle({ timeoutMs: 8_000 });
    const [first, second] = endpoint.deliveries;
    expect(endpoint.deliveries).toHaveLength(2);
    expect(header(second, 'upstash-retried')).toBe('1');
    const gap = second!.at - first!.at;
    expect(gap).toBeGreaterThanOrEqual(1_900);
    expect(gap).toBeLessThan(4_000);
    expect(qstash.stats()).toMatchObject({ delivered: 1, retried: 1, dlq: 0 });
  });

  it('Retry-After is scaled like any retry wait (retryDelayScale), so fast tests stay fast', async () => {
    const { qstash, endpoint, client } = await setup({ retryDelayScale: 0.01 }, (_, index) => (index < 2 ? { status: 429, headers: { 'retry-after': '30' } } : {}));
    await client.publish({ url: endpoint.url('/hooks/limited'), body: 'x', retries: 3 });
    await qstash.waitForIdle({ timeoutMs: 5_000 });
    const [a, b, c] = endpoint.deliveries.map((d) => d.at);
    // 30 s scaled by 0.01 is 300 ms; the default backoff would have been 120 ms then 1.5 s.
    expect(b! - a!).toBeGreaterThanOrEqual(280);
    expect(c! - b!).toBeGreaterThanOrEqual(280);
    expect(c! - b!).toBeLessThan(1_400);
  });

  it('a 489 with Upstash-NonRetryable-Error: true is dead-lettered after one attempt, failure callback included', async () => {
    const { qstash, endpoint, client } = await setup({}, (delivery) =>
      delivery.path === '/hooks/refuse' ? { status: 489, body: 'never', headers: { 'upstash-nonretryable-error': 'true' } } : {},
    );
    const { messageId } = await client.publish({ url: endpoint.url('/hooks/refuse'), body: 'x', retries: 3, failureCallback: endpoint.url('/failed') });
    await qstash.waitForIdle();
    expect(endpoint.to('/hooks/refuse')).toHaveLength(1);
    const { messages } = await client.dlq.listMessages();
    expect(messages).toEqual([expect.objectContaining({ messageId, responseStatus: 489, responseBody: 'never' })]);
    expect(JSON.parse(endpoint.to('/failed')[0]!.body)).toMatchObject({ status: 489, retried: 0, sourceMessageId: messageId });
    expect(qstash.stats()).toMatchObject({ retried: 0, deadLettered: 1 });
  });

  it('a 489 without the header is an ordinary failure and is retried', async () => {
    const { qstash, endpoint, client } = await setup({}, () => ({ status: 489 }));
    await client.publish({ url: endpoint.url('/hooks/489'), body: 'x', retries: 2 });
    await qstash.waitForIdle();
    expect(endpoint.deliveries).toHaveLength(3);
  });

  it('Upstash-Delay and Upstash-Timeout take only s, m, h, d: 500ms, 1.5s and 1h30m are a 400 and nothing is published', async () => {
    const { qstash, endpoint, client } = await setup();
    const url = endpoint.url('/hooks/durations');
    // The client passes a string delay through as the header; its type only allows the documented forms.
    await expect(client.publish({ url, body: 'x', delay: '500ms' as `${bigint}s` })).rejects.toMatchObject({ status: 400 });
    const refused: [string, string][] = [
      ['upstash-delay', '1.5s'],
      ['upstash-delay', '1h30m'],
      ['upstash-delay', '10'],
      ['upstash-timeout', '500ms'],
    ];
    for (const [name, value] of refused) {
      const answer = await raw(qstash, `/v2/publish/${url}`, { method: 'POST', body: 'x', headers: { [name]: value } });
      expect(answer.status, `${name}: ${value}`).toBe(400);
      expect(answer.json.error).toContain(value);
    }
    for (const delay of ['50s', '3m', '10h', '1d'] as const) await client.publish({ url, body: delay, delay });
    expect(qstash.stats()).toMatchObject({ published: 4 });
  });

  it('default retries follow the plan (free 3, paid 5); Upstash-Retries wins', async () => {
    const free = await setup();
    const paid = await setup({ plan: 'paid' });
    const later = (s: typeof free, retries?: number) => s.client.publish({ url: s.endpoint.url('/x'), body: 'x', delay: '1h', ...(retries !== undefined && { retries }) });
    expect((await free.client.messages.get((await later(free)).messageId)).maxRetries).toBe(3);
    expect((await paid.client.messages.get((await later(paid)).messageId)).maxRetries).toBe(5);
    expect((await paid.client.messages.get((await later(paid, 1)).messageId)).maxRetries).toBe(1);
    expect((await free.client.messages.get((await later(free, 0)).messageId)).maxRetries).toBe(0);
  });

  it('a deduplication id is forgotten after its retention, and is account-wide within it', async () => {
    const { qstash, endpoint, client } = await setup({ dedupRetentionMs: 300 });
    const first = await client.publish({ url: endpoint.url('/a'), body: '1', deduplicationId: 'once' });
    // The stricter reading: the same id to another destination is a duplicate too.
    expect(await client.publish({ url: endpoint.url('/b'), body: '2', deduplicationId: 'once' })).toMatchObject({ messageId: first.messageId, deduplicated: true });
    await qstash.waitForIdle();
    const deadline = Date.now() + 5_000;
    let again = await client.publish({ url: endpoint.url('/a'), body: '3', deduplicationId: 'once' });
    while (again.deduplicated && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      again = await client.publish({ url: endpoint.url('/a'), body: '3', deduplicationId: 'once' });
    }
    expect(again.deduplicated).toBeUndefined();
    expect(again.messageId).not.toBe(first.messageId);
    await qstash.waitForIdle();
    expect(endpoint.deliveries.map((d) => d.body)).toEqual(['1', '3']);
  });
});
