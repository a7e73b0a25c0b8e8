import { describe, expect, it } from 'vitest';
import { LAST_GOOD_REFRESH_MS, RouteFallbacks } from '../../../workers/gateway/resilience/route-fallbacks';

const request = { method: 'GET', upstreamPath: '/products/1', search: '', identified: false };
const failed = { result: new Response('down', { status: 503 }) };

describe('last-good copies', () => {
  it('are taken at most once per key per LAST_GOOD_REFRESH_MS, so a hot GET is not copied on every answer', async () => {
    let now = 1_000_000;
    const fallbacks = new RouteFallbacks([{ kind: 'last-good' }], () => Promise.reject(new Error('no sources')), () => now);
    const answer = async (body: string) => fallbacks.remember(request, Response.json({ body }));
    const replayed = async () => (await fallbacks.answer(request, failed)!.json()) as { body: string };

    await answer('first');
    now += LAST_GOOD_REFRESH_MS - 1;
    // Within the interval: no copy taken (no work handed to waitUntil), the first one kept.
    expect(await answer('second')).toBeUndefined();
    expect(await replayed()).toEqual({ body: 'first' });

    now += 1;
    await answer('third');
    expect(await replayed()).toEqual({ body: 'third' });
  });

  it('keep each key apart: another path is copied at once', async () => {
    const now = 5_000_000;
    const fallbacks = new RouteFallbacks([{ kind: 'last-good' }], () => Promise.reject(new Error('no sources')), () => now);
    await fallbacks.remember(request, Response.json({ body: 'one' }));
    const other = { ...request, upstreamPath: '/products/2' };
    await fallbacks.remember(other, Response.json({ body: 'two' }));
    expect(await fallbacks.answer(other, failed)!.json()).toEqual({ body: 'two' });
  });
});
